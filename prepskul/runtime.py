"""Everything a process needs, built once from the settings and passed in: the clock, the
database, and the provider clients. `serve`, `worker`, `demo` and the tests all build one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from prepskul.clock import Clock, SystemClock
from prepskul.config import Settings
from prepskul.db.embedded import EmbeddedPostgres
from prepskul.db.engine import SessionFactory, make_engine, make_session_factory, plain_dsn

if TYPE_CHECKING:
    from prepskul.providers.email.client import Mailer
    from prepskul.providers.fapshi.client import FapshiClient
    from prepskul.providers.fathom.client import FathomClient
    from prepskul.providers.fcm.client import PushClient
    from prepskul.providers.google_calendar.client import CalendarClient

log = logging.getLogger(__name__)

SANDBOX_PREFIX = "/sandbox"


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    database_url: str
    engine: AsyncEngine
    sessions: SessionFactory
    http: httpx.AsyncClient
    # A small pool of its own for the short transactions that must commit while a request's
    # transaction is open (the booking rate limit): drawn from the main pool, every request
    # would hold one connection while waiting for a second, and a burst of bookings would
    # exhaust the pool and stall the process.
    side_engine: AsyncEngine
    side_sessions: SessionFactory
    embedded: EmbeddedPostgres | None = None
    fapshi: FapshiClient = field(init=False)
    fapshi_payouts: FapshiClient = field(init=False)  # the payout service (its own keys)
    calendar: CalendarClient = field(init=False)
    fathom: FathomClient = field(init=False)
    mailer: Mailer | None = field(init=False, default=None)  # None: email is off
    push: PushClient | None = field(init=False, default=None)  # None: push is off

    @property
    def plain_dsn(self) -> str:
        """For LISTEN connections: the direct URL when a transaction pooler is in front."""
        return plain_dsn(self.settings.database_listen_url or self.database_url)

    def sandbox_url(self, provider: str) -> str:
        """Where a fake provider is mounted inside our own server (sandbox only)."""
        return f"{self.settings.public_base_url.rstrip('/')}{SANDBOX_PREFIX}/{provider}"

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()
        await self.side_engine.dispose()


def resolve_database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database_url:
        return settings.database_url, None
    server = EmbeddedPostgres(settings.data_dir)
    return server.url(), server


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, database_url: str | None = None
) -> Runtime:
    embedded = None
    if database_url is None:
        database_url, embedded = resolve_database_url(settings)
    engine = make_engine(database_url, pool_mode=settings.database_pool_mode)
    side_engine = make_engine(database_url, pool_size=2, pool_mode=settings.database_pool_mode)
    rt = Runtime(
        settings=settings,
        clock=clock or SystemClock(),
        database_url=database_url,
        engine=engine,
        sessions=make_session_factory(engine),
        side_engine=side_engine,
        side_sessions=make_session_factory(side_engine),
        http=httpx.AsyncClient(
            timeout=httpx.Timeout(settings.provider_timeout_seconds, connect=5.0)),
        embedded=embedded,
    )
    _attach_providers(rt)
    if fakes := settings.fakes_needed():
        log.warning(
            "SANDBOX MODE: %s replaced by fakes at %s/…; nothing real is charged, booked "
            "or recorded", ", ".join(fakes), rt.sandbox_url("").rstrip("/")
        )
    return rt


@dataclass(frozen=True)
class ProviderUrls:
    """Where each provider client calls. One rule for all: an explicit `*_BASE_URL` wins;
    otherwise a provider with credentials is called at its real address (each provider
    package owns it); without credentials, the sandbox uses its fake, mounted in our own
    server under /sandbox, and production cannot start (its settings are required)."""

    fapshi: str
    calendar: str
    fathom: str
    push: str | None  # None: push is off


def provider_urls(settings: Settings) -> ProviderUrls:
    from prepskul.providers import fapshi, fathom, fcm, google_calendar

    s = settings
    fake = f"{s.public_base_url.rstrip('/')}{SANDBOX_PREFIX}"

    def pick(explicit: str | None, configured: bool, real: str, fake_path: str) -> str:
        if explicit:
            return explicit
        return real if configured or not s.is_sandbox else f"{fake}/{fake_path}"

    push = pick(s.fcm_base_url, bool(s.fcm_credentials_file), fcm.REAL_BASE_URL, "fcm")
    return ProviderUrls(
        fapshi=pick(s.fapshi_base_url, bool(s.fapshi_api_user and s.fapshi_api_key),
                    fapshi.real_base_url(s.fapshi_api_key or ""), "fapshi"),
        calendar=pick(s.google_calendar_base_url, s.google_configured,
                      google_calendar.REAL_BASE_URL, "google/calendar/v3"),
        fathom=pick(s.fathom_base_url, bool(s.fathom_api_key), fathom.REAL_BASE_URL,
                    "fathom/external/v1"),
        push=push if s.fcm_credentials_file or s.is_sandbox else None,
    )


def _attach_providers(rt: Runtime) -> None:
    from prepskul.providers.email.client import Mailer
    from prepskul.providers.fapshi import TEST_KEY_PREFIX
    from prepskul.providers.fapshi.client import FapshiClient
    from prepskul.providers.fathom.client import FathomClient
    from prepskul.providers.fcm.client import PushClient
    from prepskul.providers.google_calendar.client import CalendarClient
    from prepskul.providers.google_calendar.credentials import credentials_from_settings

    s, urls = rt.settings, provider_urls(rt.settings)
    rt.fapshi = FapshiClient(
        rt.http, base_url=urls.fapshi, api_user=s.fapshi_api_user or "sandbox-user",
        api_key=s.fapshi_api_key or f"{TEST_KEY_PREFIX}sandbox",
    )
    # Fapshi's payout services cannot collect: payouts may have their own keys (same host).
    rt.fapshi_payouts = FapshiClient(
        rt.http, base_url=urls.fapshi,
        api_user=s.fapshi_payout_api_user or s.fapshi_api_user or "sandbox-user",
        api_key=s.fapshi_payout_api_key or s.fapshi_api_key or f"{TEST_KEY_PREFIX}sandbox",
    )
    rt.calendar = CalendarClient(
        rt.http, base_url=urls.calendar, calendar_id=s.google_calendar_id,
        credentials=credentials_from_settings(s),
    )
    rt.fathom = FathomClient(
        rt.http, base_url=urls.fathom, api_key=s.fathom_api_key or "sandbox-fathom-key",
    )
    if s.smtp_url:
        rt.mailer = Mailer(s.smtp_url, s.email_from)
    if s.fcm_credentials_file and urls.push:
        rt.push = PushClient.from_key_file(rt.http, s.fcm_credentials_file, urls.push)
    elif urls.push:
        rt.push = PushClient.sandbox(rt.http, urls.push)
