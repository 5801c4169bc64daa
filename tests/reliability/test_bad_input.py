"""Malformed, oversized, wrongly typed and hostile input: a clear 4xx, never a 500, and
never a change of state."""

import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from prepskul.db.models import Job, Payment, Profile, TutoringSession, WebhookEvent
from prepskul.services.demo import demo_user
from tests.conftest import FAPSHI_SECRET, JWT_SECRET, web_client
from tests.integration.test_fathom_webhook import meeting, signed

DEEP = b"[" * 100_000 + b"]" * 100_000
HOSTILE_BODIES: dict[str, tuple[bytes, str]] = {
    "deep json": (DEEP, "application/json"),
    "huge string": (json.dumps({"transId": "A" * 200_000}).encode(), "application/json"),
    "bad utf-8": (b'{"transId": "\xff\xfe\xfa", "status": "SUCCESSFUL"}', "application/json"),
    "not json": (b"<xml>hello</xml>", "application/xml"),
    "json array": (b'[{"transId": "ABCDEFGH"}]', "application/json"),
    "wrong types": (b'{"transId": 12345678, "status": ["SUCCESSFUL"]}', "application/json"),
    "empty": (b"", "text/plain"),
    "nul bytes": (b'{"transId": "ABC\\u0000DEFG", "status": "SUCCESSFUL"}', "application/json"),
}


async def _state(rt: Any) -> tuple[int, int, int]:
    async with rt.sessions() as db:
        count = lambda model, *w: db.scalar(select(func.count()).select_from(model).where(*w))  # noqa: E731
        return (await count(TutoringSession), await count(Job),
                await count(WebhookEvent, WebhookEvent.verified))


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
async def test_hostile_webhook_bodies_are_refused_without_a_trace_of_state(
    api: httpx.AsyncClient, rt: Any, case: str
) -> None:
    body, content_type = HOSTILE_BODIES[case]
    before = await _state(rt)
    fapshi = await api.post("/api/webhooks/fapshi", content=body, headers={
        "x-wh-secret": FAPSHI_SECRET, "content-type": content_type})
    fathom = await api.post("/api/webhooks/fathom", content=body,
                            headers={**signed(body), "content-type": content_type}
                            if case != "bad utf-8" else {"content-type": content_type})
    for response in (fapshi, fathom):
        assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
        assert response.json()["message"]
    assert await _state(rt) == before



@pytest.mark.parametrize("recording_id", [True, 0, -1, 2**63, 2**64], ids=repr)
async def test_a_signed_meeting_whose_recording_id_cannot_be_stored_is_refused_at_the_door(
    api: httpx.AsyncClient, rt: Any, recording_id: int
) -> None:
    # `true` passes Python's isinstance(_, int); 2**63 does not fit the bigint it is kept in.
    body = json.dumps({**meeting(None), "recording_id": recording_id}).encode()
    before = await _state(rt)
    response = await api.post("/api/webhooks/fathom", content=body, headers=signed(body))
    assert response.status_code == 400 and response.json()["code"] == "invalid_webhook"
    assert await _state(rt) == before

BAD_BOOKINGS: dict[str, Any] = {
    "array": [1, 2, 3],
    "strings for numbers": {"tutor_id": str(demo_user("tutor").id), "subject": "Maths",
                            "starts_at": "2030-01-01T10:00:00+01:00", "minutes": "sixty"},
    "null everywhere": {"tutor_id": None, "subject": None, "starts_at": None, "minutes": None},
    "bad uuid": {"tutor_id": "not-a-uuid", "subject": "Maths",
                 "starts_at": "2030-01-01T10:00:00+01:00", "minutes": 60},
    "year 10000": {"tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
                   "starts_at": "9999-12-31T23:59:59+14:00", "minutes": 60},
    "huge minutes": {"tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
                     "starts_at": "2030-01-01T10:00:00+01:00", "minutes": 10**30},
    "unknown field": {"tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
                      "starts_at": "2030-01-01T10:00:00+01:00", "minutes": 60, "paid": True},
}


@pytest.mark.parametrize("case", sorted(BAD_BOOKINGS))
async def test_malformed_bookings_get_a_sentence_and_change_nothing(
    api: httpx.AsyncClient, auth: Any, rt: Any, case: str
) -> None:
    before = await _state(rt)
    response = await api.post("/api/sessions", json=BAD_BOOKINGS[case], headers=auth("student"))
    assert 400 <= response.status_code < 500, (case, response.text)
    assert response.json()["code"] and response.json()["message"]
    assert await _state(rt) == before


async def test_raw_garbage_to_the_api_is_a_4xx(api: httpx.AsyncClient, auth: Any) -> None:
    for body, content_type in HOSTILE_BODIES.values():
        response = await api.post("/api/sessions", content=body,
                                  headers={**auth("student"), "content-type": content_type})
        assert 400 <= response.status_code < 500, response.text


async def test_oversized_bodies_are_refused_before_they_are_read(api: httpx.AsyncClient,
                                                                 auth: Any) -> None:
    big = b'{"note": "' + b"x" * 400_000 + b'"}'
    response = await api.post("/api/sessions", content=big,
                              headers={**auth("student"), "content-type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (413, "too_large")

    async def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(100):
            yield b"x" * 10_000

    streamed = await api.post("/api/sessions", content=chunks(),
                              headers={**auth("student"), "content-type": "application/json"})
    assert streamed.status_code == 413


async def test_a_forger_is_slowed_down_but_the_real_provider_never_is(
    api: httpx.AsyncClient, rt: Any
) -> None:
    forged = json.dumps(meeting(None)).encode()
    codes = [(await api.post("/api/webhooks/fathom", content=forged,
                             headers={"webhook-id": f"m{i}", "webhook-timestamp": "1",
                                      "webhook-signature": "v1,Zm9yZ2Vk"})).status_code
             for i in range(40)]
    assert codes[:30] == [401] * 30 and set(codes[30:]) == {429}
    async with rt.sessions() as db:  # past the limit nothing more is written for it
        assert await db.scalar(select(func.count()).select_from(WebhookEvent)) == 30
    genuine = json.dumps(meeting(None, recording_id=5)).encode()
    for _ in range(3):  # the real provider, from the same address, in a burst
        assert (await api.post("/api/webhooks/fathom", content=genuine,
                               headers=signed(genuine))).status_code == 200


async def test_an_unknown_language_from_the_page_form_is_a_4xx_and_changes_nothing(
    settings: Any, rt: Any
) -> None:
    async with web_client(settings, "student") as browser:
        response = await browser.post("/language", data={"csrf": "t", "lang": "de"})
    assert response.status_code == 422 and response.json()["code"], response.text
    async with rt.sessions() as db:
        assert (await db.get(Profile, demo_user("student").id)).language == "en"


@pytest.mark.parametrize("claims", [
    {"user_metadata": {"full_name": ["Sam", "Student"]}},
    {"email": {"address": "sam@example.com"}},
    {"phone": 237600000000},
    {"user_metadata": {"name": "Sam\u0000"}},
])
async def test_a_token_with_claims_of_the_wrong_shape_is_a_401_and_creates_nobody(
    api: httpx.AsyncClient, rt: Any, claims: dict[str, Any]
) -> None:
    sub = uuid.uuid4()
    now = int(time.time())
    token = jwt.encode({"sub": str(sub), "aud": "authenticated", "iat": now,
                        "exp": now + 600, **claims}, JWT_SECRET, algorithm="HS256")
    response = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
    async with rt.sessions() as db:
        assert await db.get(Profile, sub) is None


async def test_the_pay_form_with_an_unknown_method_is_a_4xx_and_stores_no_payment(
    settings: Any, rt: Any, book: Any, sandbox: Any
) -> None:
    session = await book("student")
    async with web_client(settings, "student") as browser:
        response = await browser.post(f"/sessions/{session['id']}/pay",
                                      data={"csrf": "t", "method": "cash"})
    assert response.status_code == 422 and response.json()["code"], response.text
    async with rt.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize("resume", ["abc", "²", "-1", str(2**63), "9" * 40])
async def test_a_last_event_id_that_cannot_be_one_is_a_4xx_and_holds_no_subscriber(
    api: httpx.AsyncClient, auth: Any, server: Any, resume: str
) -> None:
    hub = server.state.hub
    before = len(hub.subscribers)
    for request in ({"headers": {**auth("student"), "Last-Event-ID": resume.encode()}},
                    {"headers": auth("student"), "params": {"last_event_id": resume}}):
        async with api.stream("GET", "/api/events", **request) as response:
            assert response.status_code == 422  # not a stream left open
            assert json.loads(await response.aread())["code"] == "invalid_last_event_id"
    assert len(hub.subscribers) == before
