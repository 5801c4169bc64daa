"""Hostile traffic, replayed (issue 15): oversized and trickled headers, stream floods,
personal data provoked into the logs, token tricks, page tricks and operator surfaces.
Each attack must fail; each notes what it tried, how much was refused and how long an
innocent client waited meanwhile (the "attack figures" section of the run's summary).

The header attacks run against `prepskul serve` in its own process — the server alone —
and again through Caddy with the Caddyfile compose ships."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import text

from prepskul.api.auth import TokenVerifier, mint_token
from prepskul.app import create_app
from prepskul.config import Env, Settings
from prepskul.logs import JsonFormatter
from prepskul.runtime import Runtime, build_runtime
from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET, free_port, serving, wait_until_up
from tests.integration.test_fathom_webhook import meeting, signed

HEAD_TIMEOUT = 1.0  # the serve process below gives trickled headers one second
CADDYFILE = Path(__file__).resolve().parents[2] / "deploy/caddy/Caddyfile"


@pytest.fixture(scope="module")
async def serve_alone(database_url: str, tmp_path_factory: pytest.TempPathFactory
                      ) -> AsyncIterator[int]:
    """`prepskul serve` in its own process, nothing in front; yields its port."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SUPABASE_JWT_SECRET": JWT_SECRET,
           "PREPSKUL_DATA_DIR": str(tmp_path_factory.mktemp("serve")),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "HEADER_TIMEOUT_SECONDS": str(HEAD_TIMEOUT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_until_up(client, "/healthz")
        yield port
    finally:
        proc.terminate()
        await proc.wait()


@pytest.fixture(scope="module", params=["serve", "caddy"])
async def edge(request: pytest.FixtureRequest, serve_alone: int,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, int]]:
    """What an attacker reaches: serve alone, or Caddy with deploy/caddy/Caddyfile in front
    of it (as compose ships it); yields (which, port)."""
    if request.param == "serve":
        yield "serve", serve_alone
        return
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Caddy is required in CI (.ci/run installs Debian's package)")
        pytest.skip("no Caddy on this machine (apt-get install caddy)")
    port, home = free_port(), str(tmp_path_factory.mktemp("caddy"))
    env = {**os.environ, "SITE_ADDRESS": f":{port}", "UPSTREAM": f"127.0.0.1:{serve_alone}",
           "CADDY_ADMIN": "off", "HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    proc = await asyncio.create_subprocess_exec(
        caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_until_up(client, "/healthz")
        yield "caddy", port
    finally:
        proc.terminate()
        await proc.wait()


async def send_head(port: int, head: bytes, *, chunk: int = 64 * 1024, pause: float = 0.0
                    ) -> int | None:
    """Send a request head in chunks (`pause` seconds apart) until the server answers; the
    answer's status, or None if the connection was cut without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(reader.readline())
    try:
        for start in range(0, len(head), chunk):
            if answer.done():
                break
            writer.write(head[start:start + chunk])
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
        line = await asyncio.wait_for(answer, timeout=30)
    except ConnectionError:
        line = answer.result() if answer.done() and not answer.exception() else b""
    finally:
        answer.cancel()
        writer.close()
    return int(line.split()[1]) if line.startswith(b"HTTP/") else None


async def while_polled(port: int, attack: Awaitable[Any]) -> tuple[Any, float]:
    """Run an attack while an innocent client polls /healthz every 20 ms; the attack's
    result and the longest the innocent client waited for an answer."""
    stop = asyncio.Event()

    async def poll() -> float:
        longest = 0.0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            while not stop.is_set():
                started = time.monotonic()
                assert (await c.get("/healthz")).status_code == 200
                longest = max(longest, time.monotonic() - started)
                await asyncio.sleep(0.02)
        return longest

    victim = asyncio.create_task(poll())
    await asyncio.sleep(0.1)
    try:
        result = await attack
    finally:
        stop.set()
    return result, await victim


def head(extra: bytes) -> bytes:
    return b"GET /api/me HTTP/1.1\r\nHost: prepskul\r\n" + extra + b"\r\n\r\n"


# --- Request heads ----------------------------------------------------------------------

async def test_huge_headers_are_refused_at_once_and_others_are_still_answered(
    edge: tuple[str, int], figures: Any,
) -> None:
    which, port = edge
    bomb = head(b"Authorization: Bearer " + b"a" * (50 * 2**20))  # 50 MB, three at once
    started = time.monotonic()
    statuses, waited = await while_polled(
        port, asyncio.gather(*(send_head(port, bomb) for _ in range(3))))
    figures(edge=which, tried=3, refused=statuses.count(431),
            attacker_s=time.monotonic() - started, victim_waited_s=waited)
    assert statuses == [431, 431, 431]
    assert waited < 3, "the poller was held up (it waited 10–14 s before the limit)"


async def test_a_head_just_under_the_limit_is_served_and_just_over_is_431(
    api: httpx.AsyncClient, auth: Any, settings: Settings,
) -> None:
    limit = settings.max_header_bytes
    fits = await api.get("/api/me", headers={**auth("student"), "X-Pad": "p" * (limit - 4096)})
    assert fits.status_code == 200
    over = await api.get("/api/me", headers={**auth("student"), "X-Pad": "p" * limit})
    assert over.status_code == 431
    assert over.json()["code"] == "headers_too_large"


async def test_trickled_headers_are_cut_off_and_others_are_still_answered(
    edge: tuple[str, int], figures: Any,
) -> None:
    which, port = edge
    # serve here allows HEAD_TIMEOUT for a head, the Caddyfile 10 s; one byte every 50 ms
    # would take 20 s were it let run.
    timeout = HEAD_TIMEOUT if which == "serve" else 10
    loris = head(b"X-Slow: " + b"s" * 400)
    started = time.monotonic()
    statuses, waited = await while_polled(port, asyncio.gather(
        *(send_head(port, loris, chunk=1, pause=0.05) for _ in range(100))))
    held = time.monotonic() - started
    # serve answers 408; Go's server (Caddy) just closes the connection.
    cut = statuses.count(408) + statuses.count(None)
    figures(edge=which, tried=100, refused=cut, connections_held_s=held,
            victim_waited_s=waited)
    assert cut == 100 and (which == "caddy" or statuses.count(408) >= 90)
    assert held < timeout + 10  # generous: the machine may be loaded; unbounded before
    assert waited < 5


# --- Event streams ----------------------------------------------------------------------

async def subscribers(api: httpx.AsyncClient) -> float:
    exported = (await api.get("/metrics")).text
    found = re.search(r"^prepskul_sse_subscribers ([\d.]+)$", exported, re.M)
    assert found, exported
    return float(found.group(1))


async def until_no_subscribers(api: httpx.AsyncClient) -> float:
    """Seconds until the gauge reads zero (fails after 30 s)."""
    started = time.monotonic()
    while await subscribers(api) != 0:
        assert time.monotonic() - started < 30, "streams were left counted"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_hundreds_of_malformed_and_aborted_streams_leave_no_subscriber(
    api: httpx.AsyncClient, auth: Any, figures: Any, settings: Settings,
) -> None:
    port = int(settings.public_base_url.rsplit(":", 1)[1])
    people = ["student", "child", "parent", "tutor", "admin"]
    garbage_ids = [b"abc", b"-1", "١٢".encode(), "²".encode(), b"9" * 40, b"1e5"]

    async def malformed(n: int) -> int:
        headers: dict[str, Any] = ({"Authorization": "Bearer not-a-token"} if n % 2
                   else {**auth(people[n % 5]), "Last-Event-ID": garbage_ids[n % 6]})
        async with api.stream("GET", "/api/events", headers=headers) as response:
            return response.status_code

    async def opened_then_dropped(n: int) -> int:
        client = httpx.AsyncClient(base_url=str(api.base_url), timeout=60)
        async with client, client.stream("GET", "/api/events",
                                         headers=auth(people[n % 5])) as response:
            return response.status_code  # leaving closes the connection mid-stream

    async def gone_before_the_answer(n: int) -> None:
        token = auth(people[n % 5])["Authorization"]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\r\n"
                     .encode())
        await writer.drain()
        writer.close()

    refused = await asyncio.gather(*(malformed(n) for n in range(200)))
    accepted = await asyncio.gather(*(opened_then_dropped(n) for n in range(150)))
    await asyncio.gather(*(gone_before_the_answer(n) for n in range(150)))
    settled = await until_no_subscribers(api)
    figures(tried=500, refused=sum(s in (401, 422) for s in refused),
            accepted_then_aborted=accepted.count(200), seconds_to_zero=settled)
    assert set(refused) == {401, 422}
    assert accepted == [200] * 150


async def test_a_person_holds_at_most_five_streams_and_the_oldest_is_closed(
    api: httpx.AsyncClient, events: Any, settings: Settings,
) -> None:
    limit = settings.sse_max_streams_per_person
    streams = [events("student") for _ in range(limit + 1)]
    async with contextlib.AsyncExitStack() as stack:
        for stream in streams[:limit]:
            await stack.enter_async_context(stream)
        oldest = streams[0]._task
        await stack.enter_async_context(streams[limit])
        assert oldest is not None
        await asyncio.wait_for(oldest, timeout=5)  # its stream ended: the server closed it
        assert await subscribers(api) == limit
        assert all(not s._task.done() for s in streams[1:] if s._task)
    await until_no_subscribers(api)


# --- Logs ------------------------------------------------------------------------------

@contextlib.contextmanager
def production_log() -> Any:
    """Everything logged at any level, formatted as production writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_a_database_error_on_a_delivery_logs_ids_not_its_personal_data(
    api: httpx.AsyncClient, rt: Runtime, worker: Any, figures: Any,
) -> None:
    email, phone = "amina.private@mail.cm", "+237 677 12 34 56"
    words = "my mother's number is"
    delivery = meeting(None, transcript=[{
        "speaker": {"display_name": "Amina", "matched_calendar_invitee_email": email},
        "text": f"{words} {phone}", "timestamp": "00:01:02"}])
    body = json.dumps(delivery).encode()
    async with rt.sessions.begin() as db:  # every recording refused: a database error
        await db.execute(text("ALTER TABLE prepskul.recordings ADD CONSTRAINT attack_refuses"
                              " CHECK (false) NOT VALID"))
    try:
        with production_log() as log:
            assert (await api.post("/api/webhooks/fathom", content=body,
                                   headers=signed(body))).status_code == 200
            await worker.drain()
    finally:
        async with rt.sessions.begin() as db:
            await db.execute(text("ALTER TABLE prepskul.recordings DROP CONSTRAINT "
                                  "attack_refuses"))
    written = log.getvalue()
    figures(log_lines=written.count("\n"), bytes=len(written))
    assert "23514" in written and "attack_refuses" in written  # the error was logged...
    for secret in (email, phone, words, "parameters: ("):  # ...without what it was about
        assert secret not in written


# --- Tokens ----------------------------------------------------------------------------

async def test_a_token_without_expiry_is_refused(api: httpx.AsyncClient) -> None:
    user = demo_user("student")
    forever = jwt.encode({"sub": str(user.id), "aud": "authenticated",
                          "app_metadata": {"role": "student"}}, JWT_SECRET, algorithm="HS256")
    answer = await api.get("/api/me", headers={"Authorization": f"Bearer {forever}"})
    assert answer.status_code == 401
    assert "exp" in answer.json()["message"]


@pytest.fixture
def jwks_verifier(server: Any, rt: Runtime, sandbox: Any, settings: Settings
                  ) -> Iterator[Callable[[float], TokenVerifier]]:
    """The server verifies ES256 tokens against the fake Supabase JWKS while a test runs."""
    original = server.state.verifier
    jwks = f"{rt.sandbox_url('supabase')}/auth/v1/.well-known/jwks.json"

    def install(pause: float) -> TokenVerifier:
        verifier = TokenVerifier(settings.model_copy(update={
            "supabase_jwks_url": jwks, "supabase_jwt_secret": None}), rt.http,
            refetch_pause=pause)
        server.state.verifier = verifier
        return verifier

    yield install
    server.state.verifier = original
    sandbox.supabase_auth.controls.reset()


async def as_bearers(api: httpx.AsyncClient, tokens: list[str]) -> list[httpx.Response]:
    return await asyncio.gather(*(api.get("/api/me", headers={"Authorization": f"Bearer {t}"})
                                  for t in tokens))


async def test_a_jwks_that_is_down_answers_503_keeps_cached_keys_and_is_not_hammered(
    api: httpx.AsyncClient, sandbox: Any, jwks_verifier: Any, figures: Any,
) -> None:
    fake, pause = sandbox.supabase_auth, 1.0
    jwks_verifier(pause)
    known = fake.mint(demo_user("student").id, role="student")
    assert (await as_bearers(api, [known]))[0].status_code == 200
    await asyncio.sleep(pause)  # long enough ago for another fetch to be allowed
    before = fake.controls.requests
    fake.controls.fail_next(503, times=10_000)  # Supabase is down from here on
    unknown = [fake.mint(uuid.uuid4(), kid=fake.rotate()) for _ in range(200)]
    started = time.monotonic()
    answers = await as_bearers(api, unknown)
    elapsed = time.monotonic() - started
    attempts = fake.controls.requests - before
    figures(tried=len(unknown), answered_503=sum(a.status_code == 503 for a in answers),
            jwks_fetches=attempts, seconds=elapsed)
    assert {(a.status_code, a.json()["code"]) for a in answers} == {(503, "auth_unavailable")}
    assert 1 <= attempts <= 1 + elapsed / pause  # one per pause, not one per token
    assert (await as_bearers(api, [known]))[0].status_code == 200  # the cached key still works


async def test_a_flood_of_unknown_kids_costs_no_jwks_fetch_within_the_pause(
    api: httpx.AsyncClient, sandbox: Any, jwks_verifier: Any, figures: Any,
) -> None:
    fake = sandbox.supabase_auth
    jwks_verifier(60.0)
    assert (await as_bearers(api, [fake.mint(demo_user("student").id, role="student")])
            )[0].status_code == 200
    reads = fake.jwks_reads
    key = ec.generate_private_key(ec.SECP256R1())
    forged = [jwt.encode({"sub": str(uuid.uuid4()), "aud": "authenticated",
                          "exp": int(time.time()) + 60}, key, algorithm="ES256",
                         headers={"kid": secrets.token_hex(8)}) for _ in range(200)]
    answers = await as_bearers(api, forged)
    figures(tried=len(forged), refused=sum(a.status_code == 401 for a in answers),
            jwks_fetches=fake.jwks_reads - reads)
    assert {a.status_code for a in answers} == {401}
    assert fake.jwks_reads == reads


async def test_an_hs256_token_signed_with_the_published_public_key_is_refused(
    api: httpx.AsyncClient, sandbox: Any, jwks_verifier: Any, rt: Runtime,
) -> None:
    jwks_verifier(60.0)
    fake = sandbox.supabase_auth
    public = fake.keys[fake.current].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    user = demo_user("admin")

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    # Built by hand: PyJWT itself refuses to use a public key as an HMAC secret.
    signed_part = part({"alg": "HS256", "typ": "JWT", "kid": fake.current}) + b"." + part(
        {"sub": str(user.id), "aud": "authenticated", "exp": int(time.time()) + 60,
         "app_metadata": {"role": "admin"}})
    mac = base64.urlsafe_b64encode(hmac.new(public, signed_part, "sha256").digest()).rstrip(b"=")
    confused = (signed_part + b"." + mac).decode()
    assert (await as_bearers(api, [confused]))[0].status_code == 401


# --- Pages -----------------------------------------------------------------------------

def page_cookies(who: str) -> dict[str, str]:
    user = demo_user(who)
    return {"prepskul_token": mint_token(JWT_SECRET, user.id, role=user.role),
            "prepskul_csrf": "csrf-token"}


async def test_pages_run_only_our_own_scripts_and_refuse_framing(
    api: httpx.AsyncClient, book: Any,
) -> None:
    session = await book("student")
    for path in ("/signin", "/sessions", f"/sessions/{session['id']}"):
        page = await api.get(path, cookies=page_cookies("student"))
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in page.headers  # plain http here
        for tag in re.findall(r"<script\b[^>]*>", page.text):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=", page.text), path  # no inline handlers


@pytest.mark.parametrize("referer", [
    "https://evil.example/phish", "//evil.example/phish", "/\\evil.example", "javascript:x",
    None,
])
async def test_the_language_switch_goes_back_only_within_the_site(
    api: httpx.AsyncClient, referer: str | None,
) -> None:
    headers = {"referer": referer} if referer else {}
    answer = await api.post("/language", data={"lang": "en", "csrf": "csrf-token"},
                            headers=headers, cookies=page_cookies("student"))
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert target.startswith("/") and not target.startswith(("//", "/\\")), target
    assert "evil" not in target or target == "/phish"


@contextlib.asynccontextmanager
async def another_server(rt: Runtime, database_url: str, *, unreachable: bool = False,
                         **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Our app with other settings (not validated: production's providers are not needed
    for what these tests look at), served on loopback; `unreachable`: its database is a
    port nothing listens on."""
    port = free_port()
    changed = rt.settings.model_copy(update=settings)
    if unreachable:
        database_url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    other = build_runtime(changed, clock=rt.clock, database_url=database_url)
    try:
        async with serving(create_app(other, mount_fakes=False), changed, port), \
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        await other.close()


async def test_under_https_every_cookie_is_secure_and_https_is_remembered(
    rt: Runtime, database_url: str,
) -> None:
    async with another_server(rt, database_url,
                              public_base_url="https://sessions.prepskul.test") as client:
        page = await client.get("/signin")
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("; secure" in c.lower() for c in cookies), cookies
        assert page.headers["strict-transport-security"].startswith("max-age=")


# --- Operator surfaces -----------------------------------------------------------------

async def test_metrics_want_the_token_when_one_is_set_and_production_wants_one(
    api: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "metrics_token", "scrape-secret")
    assert (await api.get("/metrics")).status_code == 401
    bad = await api.get("/metrics", headers={"Authorization": "Bearer scrape-secre"})
    assert bad.status_code == 401 and bad.json()["code"] == "metrics_token_required"
    good = await api.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert good.status_code == 200 and "prepskul_jobs" in good.text
    monkeypatch.setattr(settings, "metrics_token", None)
    monkeypatch.setattr(settings, "prepskul_env", Env.PRODUCTION)
    closed = await api.get("/metrics")
    assert (closed.status_code, closed.json()["code"]) == (403, "metrics_token_unset")


async def test_metrics_say_the_database_is_down_instead_of_an_empty_queue(
    rt: Runtime, database_url: str, api: httpx.AsyncClient,
) -> None:
    async with another_server(rt, database_url, unreachable=True) as client:
        exported = (await client.get("/metrics")).text
    assert re.search(r"^prepskul_database_up 0\.0$", exported, re.M), exported
    assert not re.search(r"^prepskul_jobs\{", exported, re.M)  # absent, not zero
    assert not re.search(r"^prepskul_attention\{", exported, re.M)
    healthy = (await api.get("/metrics")).text  # and back once it answers
    assert re.search(r"^prepskul_database_up 1\.0$", healthy, re.M)
    assert re.search(r'^prepskul_jobs\{status="queued"\} ', healthy, re.M)


@pytest.mark.parametrize(("env", "docs", "expected"), [
    (Env.PRODUCTION, None, 404), (Env.PRODUCTION, True, 200), (Env.SANDBOX, None, 200)])
async def test_api_docs_are_off_in_production_unless_enabled(
    rt: Runtime, database_url: str, env: Env, docs: bool | None, expected: int,
) -> None:
    async with another_server(rt, database_url, prepskul_env=env, api_docs=docs) as client:
        assert (await client.get("/docs")).status_code == expected
        assert (await client.get("/openapi.json")).status_code == 200  # the contract stays
