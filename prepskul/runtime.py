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
        """Where a fake provider is mounted inside our own server."""
        return f"{self.settings.public_base_url.rstrip('/')}{SANDBOX_PREFIX}/{provider}"

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()


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
    rt = Runtime(
        settings=settings,
        clock=clock or SystemClock(),
        database_url=database_url,
        engine=engine,
        sessions=make_session_factory(engine),
        http=httpx.AsyncClient(
            timeout=httpx.Timeout(settings.provider_timeout_seconds, connect=5.0)),
        embedded=embedded,
    )
    _attach_providers(rt)
    if settings.is_sandbox and (fakes := settings.fakes_needed()):
        log.warning(
            "SANDBOX MODE: %s replaced by fakes at %s/…; nothing real is charged, booked "
            "or recorded", ", ".join(fakes), rt.sandbox_url("").rstrip("/")
        )
    return rt


def _attach_providers(rt: Runtime) -> None:
    from prepskul.providers.fapshi.client import FapshiClient
    from prepskul.providers.fathom.client import FathomClient
    from prepskul.providers.google_calendar.client import CalendarClient
    from prepskul.providers.google_calendar.credentials import credentials_from_settings

    s = rt.settings
    rt.fapshi = FapshiClient(
        rt.http,
        base_url=s.fapshi_base_url or rt.sandbox_url("fapshi"),
        api_user=s.fapshi_api_user or "sandbox-user",
        api_key=s.fapshi_api_key or "FAK_TEST_sandbox",
    )
    rt.fapshi_payouts = FapshiClient(
        rt.http,
        base_url=s.fapshi_base_url or rt.sandbox_url("fapshi"),
        api_user=s.fapshi_payout_api_user or s.fapshi_api_user or "sandbox-user",
        api_key=s.fapshi_payout_api_key or s.fapshi_api_key or "FAK_TEST_sandbox",
    )
    rt.calendar = CalendarClient(
        rt.http,
        base_url=s.google_calendar_base_url or rt.sandbox_url("google") + "/calendar/v3",
        calendar_id=s.google_calendar_id,
        credentials=credentials_from_settings(s),
    )
    rt.fathom = FathomClient(
        rt.http,
        base_url=s.fathom_base_url or rt.sandbox_url("fathom") + "/external/v1",
        api_key=s.fathom_api_key or "sandbox-fathom-key",
    )
    from prepskul.providers.email.client import Mailer
    from prepskul.providers.fcm.client import PushClient

    if s.smtp_url:
        rt.mailer = Mailer(s.smtp_url, s.email_from)
    if s.fcm_credentials_file:
        rt.push = PushClient.from_key_file(rt.http, s.fcm_credentials_file,
                                           s.fcm_base_url or "https://fcm.googleapis.com")
    elif s.is_sandbox:
        rt.push = PushClient.sandbox(rt.http, s.fcm_base_url or rt.sandbox_url("fcm"))
