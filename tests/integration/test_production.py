"""The production wiring, end to end: the fakes as separate servers on their own ports, the
service run as an operator runs it (`PREPSKUL_ENV=production`, the commands of
docs/deploy.md in their order) and pointed at the fakes by explicit base URLs only, a Google
service-account key whose `token_uri` is the fake OAuth endpoint, and a real SMTP server.
Nothing of the sandbox is mounted in the service; nothing reaches a /sandbox/ path."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from prepskul.api.auth import mint_token
from prepskul.clock import SystemClock
from prepskul.config import load_settings
from prepskul.db.engine import make_engine, make_session_factory
from prepskul.sandbox.fapshi import FakeFapshi
from prepskul.sandbox.fathom import FakeFathom
from prepskul.sandbox.google_calendar import FakeCalendar
from prepskul.sandbox.harness import FakeControls
from prepskul.services.demo import ALL_DAY, demo_user, seed_demo
from tests.conftest import (
    JWT_SECRET,
    Mailbox,
    free_port,
    serving,
    wait_until_up,
    write_service_account_key,
)

pytestmark = pytest.mark.slow

FAPSHI_USER, FAPSHI_KEY = "prod-user", "FAK_live_0123456789abcdef"
FAPSHI_SECRET = "fapshi-dashboard-secret-of-enough-length"
FATHOM_KEY = "fathom-production-key"
SERVICE_ACCOUNT = "sessions@prepskul-prod.iam.gserviceaccount.com"
ORGANISER, VA = "sessions@prepskul.cm", "va@prepskul.cm"


@dataclass
class Providers:
    fapshi: FakeFapshi
    calendar: FakeCalendar
    fathom: FakeFathom
    env: dict[str, str]  # what an operator sets (without FATHOM_WEBHOOK_SECRET yet)
    service_port: int


@pytest.fixture
async def providers(empty_database: str, smtp_server: tuple[Mailbox, int],
                    tmp_path: Path) -> AsyncIterator[Providers]:
    """Fapshi, Google (Calendar + OAuth) and Fathom fakes, each a server of its own."""
    clock = SystemClock()
    ports = {name: free_port() for name in ("fapshi", "google", "fathom", "service")}
    at = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
    key_file = tmp_path / "google-key.json"
    calendar = FakeCalendar(controls=FakeControls(clock), token="no-static-token-in-production")
    calendar.service_accounts[SERVICE_ACCOUNT] = write_service_account_key(
        key_file, token_uri=f"{at['google']}/token", email=SERVICE_ACCOUNT)
    fapshi = FakeFapshi(controls=FakeControls(clock), api_user=FAPSHI_USER, api_key=FAPSHI_KEY,
                        public_url=at["fapshi"],  # the dashboard's webhook settings:
                        webhook_url=f"{at['service']}/api/webhooks/fapshi",
                        webhook_secret=FAPSHI_SECRET)
    fathom = FakeFathom(controls=FakeControls(clock), api_key=FATHOM_KEY)
    env = {
        "PREPSKUL_ENV": "production", "DATABASE_URL": empty_database,
        "PUBLIC_BASE_URL": "https://sessions.prepskul.cm",
        "PREPSKUL_DATA_DIR": str(tmp_path / "data"),
        "FAPSHI_API_USER": FAPSHI_USER, "FAPSHI_API_KEY": FAPSHI_KEY,
        "FAPSHI_WEBHOOK_SECRET": FAPSHI_SECRET, "FAPSHI_BASE_URL": at["fapshi"],
        "GOOGLE_SERVICE_ACCOUNT_FILE": str(key_file), "GOOGLE_DELEGATED_USER": ORGANISER,
        "GOOGLE_CALENDAR_BASE_URL": f"{at['google']}/calendar/v3", "VA_EMAIL": VA,
        "FATHOM_API_KEY": FATHOM_KEY, "FATHOM_BASE_URL": f"{at['fathom']}/external/v1",
        "SUPABASE_JWT_SECRET": JWT_SECRET,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_server[1]}",
        "EMAIL_FROM": "PrepSkul <sessions@prepskul.cm>", "MEET_POLL_BASE_SECONDS": "0.05",
    }
    async with contextlib.AsyncExitStack() as stack:
        for name, fake in (("fapshi", fapshi), ("google", calendar), ("fathom", fathom)):
            await stack.enter_async_context(serving(fake.app(), None, ports[name]))
        yield Providers(fapshi, calendar, fathom, env, ports["service"])
        await fathom.flush()
        await fapshi.flush()


def _environment(env: dict[str, str]) -> dict[str, str]:
    """The machine's environment less any PrepSkul setting of ours, plus the operator's."""
    ours = {name.upper() for name in type(load_settings()).model_fields} | {"PREPSKUL_DATA_DIR"}
    return {**{k: v for k, v in os.environ.items() if k.upper() not in ours}, **env}


async def prepskul(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", *args, env=_environment(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@contextlib.asynccontextmanager
async def service(env: dict[str, str], port: int) -> AsyncIterator[httpx.AsyncClient]:
    """`prepskul serve --with-worker`, as a process of its own."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", "serve", "--with-worker", "--port", str(port),
        env=_environment(env), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_until_up(client)
            yield client
    finally:
        proc.terminate()
        await proc.wait()


async def until(probe: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:  # noqa: ASYNC109
    """Poll `probe` until it returns something truthy (the service works in its own time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def headers(who: str) -> dict[str, str]:
    user = demo_user(who)
    return {"Authorization": "Bearer " + mint_token(JWT_SECRET, user.id, role=user.role,
                                                     email=user.email, name=user.name)}



async def test_migrate_needs_only_the_database_as_step_one_of_the_deploy_guide_says(
        empty_database: str) -> None:
    production = {"PREPSKUL_ENV": "production", "PUBLIC_BASE_URL": "http://127.0.0.1:8000"}
    code, out = await prepskul(production, "migrate")
    assert code == 2 and "DATABASE_URL" in out and "FAPSHI" not in out, out
    code, out = await prepskul({**production, "DATABASE_URL": empty_database}, "migrate")
    assert code == 0 and "✔ database at revision" in out, out

async def test_a_first_deploy_follows_doctors_advice_in_the_order_it_gives(
        providers: Providers) -> None:
    """Doctor says: migrate; then: register the Fathom webhook; then: ready."""
    env = providers.env
    code, out = await prepskul(env, "doctor")
    assert code == 1, out
    lines = out.splitlines()
    advice = [fix for failed, fix in itertools.pairwise(lines)
              if failed.startswith("✘") and fix.strip().startswith("→")]
    assert "prepskul migrate" in advice[0] and "fathom webhook register" in advice[-1], out
    assert "/sandbox" not in out

    code, out = await prepskul(env, "migrate")
    assert code == 0, out
    code, out = await prepskul(env, "doctor")
    assert code == 1 and "✔ database" in out, out
    assert [line for line in out.splitlines() if line.startswith("✘") and ":" in line] == [
        "✘ Fathom webhook: FATHOM_WEBHOOK_SECRET is not set"], out

    service_url = f"http://127.0.0.1:{providers.service_port}/api/webhooks/fathom"
    code, out = await prepskul(env, "fathom", "webhook", "register", "--url", service_url)
    assert code == 0, out
    [hook] = providers.fathom.webhooks.values()
    assert hook.secret in out and hook.url == service_url

    code, out = await prepskul({**env, "FATHOM_WEBHOOK_SECRET": hook.secret}, "doctor")
    assert code == 0 and out.rstrip().endswith("✔ ready"), out
    assert set(providers.calendar.delegated) == {ORGANISER}  # the key's assertions, verified


async def test_the_whole_story_runs_on_the_production_wiring(
        providers: Providers, mailbox: Mailbox) -> None:
    env = providers.env
    assert (await prepskul(env, "migrate"))[0] == 0
    service_url = f"http://127.0.0.1:{providers.service_port}"
    code, out = await prepskul(env, "fathom", "webhook", "register",
                               "--url", f"{service_url}/api/webhooks/fathom")
    assert code == 0, out
    secret = re.findall(r"whsec_\S+", out)[-1]
    env = {**env, "FATHOM_WEBHOOK_SECRET": secret}
    engine = make_engine(env["DATABASE_URL"])
    async with make_session_factory(engine).begin() as db:
        await seed_demo(db, hours=ALL_DAY)  # the people: tutors (free all day) and students
    await engine.dispose()

    async with service(env, providers.service_port) as api:
        assert (await api.get("/sandbox/fapshi/balance")).status_code == 404
        tutor, student = demo_user("tutor"), demo_user("student")

        async def book_and_pay(hours_ahead: int) -> dict[str, Any]:
            starts = (SystemClock().now() + timedelta(hours=hours_ahead)).replace(microsecond=0)
            booked = await api.post("/api/sessions", headers=headers("student"), json={
                "tutor_id": str(tutor.id), "subject": "Mathematics",
                "starts_at": starts.isoformat(), "minutes": 60, "kind": "regular"})
            assert booked.status_code == 201, booked.text
            payment = await api.post(f"/api/sessions/{booked.json()['id']}/payments",
                                     json={"method": "link"}, headers=headers("student"))
            assert payment.status_code == 201, payment.text
            link = payment.json()["link"]
            assert link.startswith(providers.fapshi.public_url)
            async with httpx.AsyncClient() as person:  # on Fapshi's checkout page
                assert (await person.post(f"{link}/pay")).status_code == 303
            await providers.fapshi.flush()

            async def scheduled() -> dict[str, Any] | None:
                got = (await api.get(f"/api/sessions/{booked.json()['id']}",
                                     headers=headers("student"))).json()
                return got if got["meet_state"] == "ready" else None

            session: dict[str, Any] = await until(scheduled)
            return session

        lesson = await book_and_pay(24)
        assert lesson["status"] == "scheduled"
        assert lesson["meet_link"].startswith("https://meet.google.com/")
        [event] = [e for e in providers.calendar.events.values() if e["status"] == "confirmed"]
        assert VA in [a["email"] for a in event["attendees"]]

        providers.fathom.record(
            title=event["summary"], meeting_url=lesson["meet_link"],
            starts_at=SystemClock().now() + timedelta(hours=24),
            ends_at=SystemClock().now() + timedelta(hours=25),
            tutor=(tutor.name, tutor.email), student=(student.name, student.email),
            va=("PrepSkul VA", VA))
        await providers.fathom.flush()
        assert providers.fathom.deliveries[-1][2] == 200  # verified with the registered secret

        async def notes() -> dict[str, Any] | None:
            got = await api.get(f"/api/sessions/{lesson['id']}/recording",
                                headers=headers("student"))
            return got.json() if got.status_code == 200 else None

        recording = await until(notes)
        assert recording["action_items"]

        async def emailed() -> bool:
            return any(student.email in str(m["To"]) for m in mailbox.messages)

        await until(emailed)

        second = await book_and_pay(48)
        cancelled = await api.post(f"/api/sessions/{second['id']}/cancel",
                                   json={"reason": "Exams moved"}, headers=headers("student"))
        assert cancelled.status_code == 200, cancelled.text

        async def event_deleted() -> bool:
            return sum(e["status"] == "cancelled"
                       for e in providers.calendar.events.values()) == 1

        await until(event_deleted)
    assert providers.calendar.delegated and set(providers.calendar.delegated) == {ORGANISER}
