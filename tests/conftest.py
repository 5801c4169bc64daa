"""Shared fixtures: one Postgres per run (the server named by TEST_DATABASE_URL, or an
embedded one), a fresh database migrated once, our app and the fakes served over real HTTP
on loopback, a clock the tests can move, and tokens for the demo users."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest
import uvicorn

from prepskul.api.auth import mint_token
from prepskul.app import create_app
from prepskul.clock import ManualClock
from prepskul.config import Settings, load_settings
from prepskul.db import migrate, models
from prepskul.db.embedded import EmbeddedPostgres
from prepskul.db.engine import plain_dsn
from prepskul.http_server import server_config
from prepskul.jobs.registry import build_worker
from prepskul.jobs.worker import Worker
from prepskul.runtime import Runtime, build_runtime
from prepskul.sandbox.mount import Sandbox
from prepskul.services.demo import ALL_DAY, DEMO_USERS, demo_user, seed_demo

JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256"
FAPSHI_SECRET = "fapshi-dashboard-secret"
FATHOM_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def write_service_account_key(path: Path, *, token_uri: str, project: str = "prepskul",
                              email: str = "sessions@prepskul.iam.gserviceaccount.com") -> str:
    """A Google service-account key file as Google makes them (also what Firebase gives for
    FCM); returns its public key in PEM, for a fake token endpoint to verify assertions."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": project, "private_key_id": uuid.uuid4().hex,
        "private_key": private, "client_email": email, "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri}))
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


EMBEDDED: list[EmbeddedPostgres] = []


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run, on TEST_DATABASE_URL's server or an embedded one."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    embedded = None
    if server_url is None:
        embedded = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), delete_on_stop=True)
        EMBEDDED.append(embedded)
        server_url = embedded.url()
    name = f"prepskul_test_{uuid.uuid4().hex[:8]}"
    admin = plain_dsn(server_url)

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()

    asyncio.run(create())
    url = _with_database(server_url, name)
    migrate.upgrade(url)
    yield url
    asyncio.run(drop())
    if embedded:
        embedded.stop()


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    """A database of its own on the test server, with nothing in it (not even migrated)."""
    name = f"prepskul_empty_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_dsn(database_url))
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield _with_database(database_url, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def port() -> int:
    return free_port()


class Mailbox:
    """A real SMTP server's inbox (aiosmtpd), which can be told to refuse for a while."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as they crossed the wire
        self.refusing = False
        self.stall = 0.0  # seconds to hang on RCPT TO: a sender can be killed mid-send

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if self.stall:
            await asyncio.sleep(self.stall)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "451 4.3.0 Mailbox temporarily unavailable"
        self.raw.append(envelope.original_content)
        self.messages.append(
            cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(envelope.content)))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box, smtp_port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield box, smtp_port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    box = smtp_server[0]
    box.messages.clear()
    box.raw.clear()
    box.refusing = False
    box.stall = 0.0
    return box


@pytest.fixture(scope="session")
def settings(
    port: int, tmp_path_factory: pytest.TempPathFactory, smtp_server: tuple[Mailbox, int]
) -> Settings:
    return load_settings(
        prepskul_env="sandbox",
        public_base_url=f"http://127.0.0.1:{port}",
        supabase_jwt_secret=JWT_SECRET,
        fapshi_webhook_secret=FAPSHI_SECRET,
        fathom_webhook_secret=FATHOM_SECRET,
        PREPSKUL_DATA_DIR=Path(tmp_path_factory.mktemp("data")),
        booking_min_notice_minutes=120,
        meet_poll_base_seconds=0.01,
        smtp_url=f"smtp://127.0.0.1:{smtp_server[1]}",
    )


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
async def rt(settings: Settings, database_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings, clock=clock, database_url=database_url)
    yield runtime
    await runtime.close()


@contextlib.asynccontextmanager
async def serving(app: Any, settings: Settings | None, port: int) -> AsyncIterator[Any]:
    """An app served on loopback as `serve` serves it, in this process; without settings,
    by plain uvicorn (a fake provider's server)."""
    config = (server_config(app, settings, host="127.0.0.1", port=port) if settings
              else uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                  access_log=False))
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110  (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.02)
    try:
        yield app
    finally:
        srv.should_exit = True
        await task


@pytest.fixture(scope="session")
async def server(rt: Runtime, port: int) -> AsyncIterator[Any]:
    """Our app with the fakes mounted, served on loopback (real HTTP both ways)."""
    async with serving(create_app(rt, mount_fakes=True), rt.settings, port) as app:
        yield app


@pytest.fixture
def sandbox(server: Any) -> Sandbox:
    """The fakes, emptied for each test."""
    sb: Sandbox = server.state.sandbox
    sb.reset()
    return sb


@pytest.fixture
async def api(server: Any, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from prepskul.api.limits import RejectionLimiter

    server.state.webhook_rejections = RejectionLimiter()  # each test starts unsuspected
    async with httpx.AsyncClient(base_url=settings.public_base_url, timeout=30) as client:
        yield client


@pytest.fixture
async def fresh_db(rt: Runtime, clock: ManualClock) -> None:
    """Every integration test starts from the demo users and nothing else."""
    from datetime import UTC, datetime

    clock.set(datetime.now(UTC))
    async with rt.sessions.begin() as db:
        from sqlalchemy import text

        # Every table the models know (a hand-kept list missed one, so a test could see
        # another's leftovers).
        tables = ", ".join(f"prepskul.{t.name}" for t in models.Base.metadata.sorted_tables)
        await db.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await seed_demo(db, hours=ALL_DAY)


@pytest.fixture
def roomy_limits(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test that books many sessions as one person to show something other than the
    per-booker limits (those have tests of their own, at the default settings)."""
    monkeypatch.setattr(rt.settings, "max_open_unpaid_bookings", 1000)
    monkeypatch.setattr(rt.settings, "booking_attempts_per_hour", 100_000)


@pytest.fixture
def worker(rt: Runtime) -> Worker:
    return build_worker(rt, name="test-worker")


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """Headers with a Supabase-shaped token for a demo user ('student', 'tutor', …)."""

    def headers(key: str) -> dict[str, str]:
        user = demo_user(key)
        token = mint_token(JWT_SECRET, user.id, role=user.role, email=user.email, name=user.name)
        return {"Authorization": f"Bearer {token}"}

    return headers


def web_client(settings: Settings, who: str) -> httpx.AsyncClient:
    """A browser-like client for the pages: the sign-in cookie, and the CSRF cookie that
    every form echoes as its `csrf` field (here always "t")."""
    user = demo_user(who)
    token = mint_token(JWT_SECRET, user.id, role=user.role, email=user.email, name=user.name)
    return httpx.AsyncClient(base_url=settings.public_base_url, timeout=30,
                             cookies={"prepskul_token": token, "prepskul_csrf": "t"})


@pytest.fixture
def book(
    api: httpx.AsyncClient, auth: Callable[[str], dict[str, str]], clock: ManualClock
) -> Callable[..., Any]:
    """Book through the public API; returns the response's JSON (asserting its status)."""
    from datetime import timedelta

    async def make(
        who: str = "student", *, tutor: str = "tutor", hours_ahead: float = 24,
        minutes: int = 60, kind: str = "regular", subject: str = "Mathematics",
        expect: int | None = 201, **extra: Any,
    ) -> dict[str, Any]:
        starts = (clock.now() + timedelta(hours=hours_ahead)).replace(microsecond=0)
        body = {"tutor_id": str(demo_user(tutor).id), "subject": subject,
                "starts_at": starts.isoformat(), "minutes": minutes, "kind": kind, **extra}
        response = await api.post("/api/sessions", json=body, headers=auth(who))
        assert expect is None or response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    return make


@pytest.fixture
def pay(
    api: httpx.AsyncClient, auth: Callable[[str], dict[str, str]]
) -> Callable[..., Any]:
    """Start a payment through the public API; returns the payment JSON."""

    async def start(session: dict[str, Any], who: str = "student", *, expect: int = 201,
                    **body: Any) -> dict[str, Any]:
        response = await api.post(f"/api/sessions/{session['id']}/payments",
                                  json=body or {"method": "link"}, headers=auth(who))
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    return start


@pytest.fixture
def checkout(api: httpx.AsyncClient, sandbox: Sandbox) -> Callable[..., Any]:
    """A person on the fake Fapshi checkout page: pay, fail or abandon; webhooks flushed."""

    async def act(payment: dict[str, Any], outcome: str = "pay") -> None:
        response = await api.post(f"{payment['link']}/{outcome}")
        assert response.status_code == 303
        await sandbox.fapshi.flush()

    return act


@pytest.fixture
def paid_session(book: Any, pay: Any, checkout: Any, worker: Worker) -> Callable[..., Any]:
    """A session booked, paid on the fake checkout, and every resulting job run."""

    async def make(who: str = "student", **booking: Any) -> dict[str, Any]:
        session: dict[str, Any] = await book(who, **booking)
        await checkout(await pay(session, who))
        await worker.drain()
        return session

    return make


@pytest.fixture
def lesson(
    api: httpx.AsyncClient, auth: Callable[[str], dict[str, str]], sandbox: Sandbox,
    worker: Worker,
) -> Callable[..., Any]:
    """'The lesson happened': the fake Fathom records it, posts its webhook, we process;
    then whoever booked confirms the lesson (`confirm=False` leaves it to be confirmed), which
    settles its money."""
    sandbox.fathom.resend_scale = 0.0001

    async def happen(session: dict[str, Any], who: str = "student", *,
                     confirm: bool = True) -> dict[str, Any]:
        response = await api.post(f"/api/sandbox/sessions/{session['id']}/lesson",
                                  headers=auth(who))
        assert response.status_code == 202, response.text
        await sandbox.fathom.flush()
        await worker.drain()
        if confirm:
            [booker] = [u.key for u in DEMO_USERS if str(u.id) == session["booked_by_id"]]
            await api.post(f"/api/sessions/{session['id']}/confirm", headers=auth(booker))
        body: dict[str, Any] = response.json()
        return body

    return happen


@pytest.fixture
def earned(
    paid_session: Callable[..., Any], lesson: Callable[..., Any], clock: ManualClock,
    worker: Worker,
) -> Callable[..., Any]:
    """A tutor with 8,500 XAF available: a two-hour lesson, completed, past its hold."""

    async def make() -> dict[str, Any]:
        session: dict[str, Any] = await paid_session(minutes=120)
        await lesson(session)
        clock.advance(timedelta(hours=25))
        await worker.drain()
        return session

    return make


class EventStream:
    """A client of `GET /api/events` reading in the background, as a browser would."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._client, self._headers = client, headers
        self._task: asyncio.Task[None] | None = None
        self.opened = asyncio.Event()

    async def __aenter__(self) -> EventStream:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.opened.wait(), timeout=10)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        import json

        async with self._client.stream("GET", "/api/events", headers=self._headers,
                                       timeout=None) as response:
            assert response.status_code == 200, await response.aread()
            self.opened.set()
            event: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if not line:
                    if "data" in event:
                        await self.events.put(event)
                    event = {}
                elif line.startswith("id:"):
                    event["id"] = int(line[3:].strip())
                elif line.startswith("event:"):
                    event["type"] = line[6:].strip()
                elif line.startswith("data:"):
                    event["data"] = json.loads(line[5:].strip())

    async def next(self, timeout: float = 10) -> dict[str, Any]:  # noqa: ASYNC109
        return await asyncio.wait_for(self.events.get(), timeout)

    async def until(self, type_: str, timeout: float = 10) -> dict[str, Any]:  # noqa: ASYNC109
        """The next event of this type (others are skipped)."""
        while True:
            event = await self.next(timeout)
            if event.get("type") == type_:
                return event

    def drained(self) -> list[dict[str, Any]]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


@pytest.fixture
def events(api: httpx.AsyncClient, auth: Callable[[str], dict[str, str]]) -> Callable[..., Any]:
    """`async with events("student") as stream:` — a live event stream for a demo user."""

    def open_stream(who: str, **headers: str) -> EventStream:
        # A stream holds its connection: give it its own client, like a separate browser.
        client = httpx.AsyncClient(base_url=str(api.base_url), timeout=None)
        return EventStream(client, {**auth(who), **headers})

    return open_stream


@pytest.fixture
def restart_database() -> Callable[[], Any]:
    """Restarts the PostgreSQL server under the test database (embedded, or this machine's
    cluster — which needs root, as in CI)."""
    import subprocess

    def restart() -> None:
        if EMBEDDED:
            EMBEDDED[0].restart()
            return
        clusters = Path("/etc/postgresql")
        if os.geteuid() != 0 or not clusters.is_dir():
            pytest.skip("restarting this machine's PostgreSQL needs root and pg_ctlcluster")
        version = sorted(p.name for p in clusters.iterdir())[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main",
                        "restart", "-m", "fast"], check=True)

    return restart


async def wait_until_up(client: httpx.AsyncClient, path: str = "/readyz",
                        seconds: float = 20) -> None:
    """Until a server process we started answers (it starts in a second or two)."""
    for _ in range(int(seconds * 10)):
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(path)).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{client.base_url} never came up")
