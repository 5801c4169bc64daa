"""Text Postgres cannot store (a NUL, a lone surrogate) is refused at our edge with a code,
wherever a person can type it; a provider's verified delivery holding it is kept, with
only that stripped."""

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from prepskul.db.models import ActionItem, Profile, Recording, TutoringSession, WebhookEvent
from prepskul.services.demo import demo_user
from tests.conftest import FAPSHI_SECRET, web_client
from tests.integration.test_fathom_webhook import meeting, signed

NUL = "\u0000"


async def _snapshot(rt: Any) -> tuple[Any, ...]:
    async with rt.sessions() as db:
        profiles = (await db.execute(select(Profile.id, Profile.full_name, Profile.language)
                                     .order_by(Profile.id))).all()
        sessions = (await db.execute(select(TutoringSession.id, TutoringSession.status,
                                            TutoringSession.cancel_reason))).all()
        return tuple(profiles), tuple(sessions)


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unstorable_text"
    assert response.json()["message"]


@pytest.mark.parametrize("text", [f"Bring{NUL} the book", "\ud800 lone surrogate"])
async def test_text_postgres_refuses_is_a_422_in_every_json_field_and_changes_nothing(
    api: httpx.AsyncClient, auth: Any, book: Any, rt: Any, text: str
) -> None:
    session = await book("student")
    before = await _snapshot(rt)
    tutor = str(demo_user("tutor").id)
    requests = [
        ("POST", "/api/sessions", {"tutor_id": tutor, "subject": "Mathematics", "note": text,
                                   "starts_at": "2030-01-01T10:00:00+01:00", "minutes": 60}),
        ("PATCH", "/api/me", {"full_name": text}),
        ("PATCH", "/api/me", {text: "a key, not a value"}),
        ("POST", f"/api/sessions/{session['id']}/cancel", {"reason": text}),
        ("POST", "/api/plans", {"tutor_id": tutor, "subject": text, "frequency": "monthly",
                                "slots": [{"weekday": 1, "start": "17:00", "minutes": 60}],
                                "starts_on": "2030-01-07"}),
        ("POST", f"/api/plans/{uuid.uuid4()}/decline", {"reason": text}),
    ]
    for method, path, body in requests:
        _refused(await api.request(method, path, content=json.dumps(body).encode(),
                                   headers={**auth("student"), "content-type": "application/json"}))
    assert await _snapshot(rt) == before


@pytest.mark.parametrize("text", [f"Bi{NUL}bi", "\ud800 lone surrogate"])
async def test_a_family_field_postgres_refuses_is_a_422_and_changes_nothing(
    api: httpx.AsyncClient, auth: Any, settings: Any, rt: Any, text: str
) -> None:
    child = str(demo_user("child").id)
    before = await _snapshot(rt)
    for method, path, body, who in [
        ("POST", "/api/children", {"full_name": text}, "parent"),
        ("POST", "/api/children", {"full_name": "Bibi", "school": text}, "parent"),
        ("PATCH", f"/api/children/{child}", {"full_name": text}, "parent"),
        ("POST", "/api/invitations/accept", {"code": f"AAAAA{text}"}, "student"),
    ]:
        _refused(await api.request(method, path, content=json.dumps(body).encode(),
                                   headers={**auth(who), "content-type": "application/json"}))
    if NUL in text:  # a form cannot carry a lone surrogate at all
        async with web_client(settings, "parent") as browser:
            _refused(await browser.post("/children", data={"csrf": "t", "full_name": text}))
    assert await _snapshot(rt) == before


async def test_an_escaped_backslash_before_u0000_is_plain_text(
    api: httpx.AsyncClient, auth: Any
) -> None:
    response = await api.patch("/api/me", json={"full_name": "Sam \\u0000 Student"},
                               headers=auth("student"))
    assert response.status_code == 200
    assert response.json()["full_name"] == "Sam \\u0000 Student"


@pytest.mark.parametrize("query", [
    "/api/admin/webhooks?provider=fap%00shi", "/api/admin/jobs?status=dead%00",
    "/api/admin/webhooks?state=%00", "/api/tutors?subject=Math%00s",
    "/api/sessions?status=paid%00",
])
async def test_a_nul_in_a_query_parameter_is_a_422(
    api: httpx.AsyncClient, auth: Any, query: str
) -> None:
    _refused(await api.get(query, headers=auth("admin")))


async def test_a_nul_in_a_web_form_is_a_422_and_changes_nothing(
    settings: Any, book: Any, rt: Any
) -> None:
    session = await book("student")
    before = await _snapshot(rt)
    async with web_client(settings, "student") as browser:
        for path, form in [
            (f"/sessions/{session['id']}/cancel", {"reason": f"ill{NUL}"}),
            ("/sessions", {"tutor_id": str(demo_user("tutor").id), "subject": f"M{NUL}",
                           "starts": "2030-01-01T10:00", "minutes": "60", "kind": "regular"}),
            ("/language", {"lang": f"en{NUL}"}),
        ]:
            _refused(await browser.post(path, data={"csrf": "t", **form}))
        _refused(await browser.get("/ops?provider=%00"))
    assert await _snapshot(rt) == before


async def test_a_verified_fapshi_delivery_with_a_nul_is_kept(
    api: httpx.AsyncClient, rt: Any
) -> None:
    body = json.dumps({"transId": "ABCDEFGH", "status": f"SUCC{NUL}ESSFUL",
                       "message": f"x{NUL}y"}).encode()
    response = await api.post("/api/webhooks/fapshi", content=body, headers={
        "x-wh-secret": FAPSHI_SECRET, "content-type": "application/json"})
    assert response.status_code == 200, response.text
    async with rt.sessions() as db:
        event = (await db.scalars(select(WebhookEvent))).one()
    assert event.verified and event.delivery_key == "ABCDEFGH:SUCCESSFUL"
    assert event.body == body  # the evidence is kept byte for byte


async def test_a_signed_fathom_delivery_with_nuls_is_stored_without_them(
    api: httpx.AsyncClient, rt: Any, paid_session: Any, worker: Any
) -> None:
    session = await paid_session("student")
    async with rt.sessions() as db:
        link = (await db.get(TutoringSession, session["id"])).meet_link
    notes = meeting(link, title=f"Maths{NUL}", recording_id=77)
    notes["transcript"][0]["text"] = f"Let's{NUL} start"
    notes["transcript"][0]["speaker"]["display_name"] = "Dr.\ud800 Ngono"
    notes["action_items"][0]["description"] = f"Finish{NUL} exercise 4"
    notes[f"new{NUL}field"] = {"k": NUL}
    body = json.dumps(notes).encode()
    assert (await api.post("/api/webhooks/fathom", content=body,
                           headers=signed(body))).status_code == 200
    await worker.drain()
    async with rt.sessions() as db:
        recording = (await db.scalars(select(Recording))).one()
        item = (await db.scalars(select(ActionItem))).one()
        event = (await db.scalars(select(WebhookEvent)
                                  .where(WebhookEvent.provider == "fathom"))).one()
    assert event.state == "processed", event.error
    assert recording.title == "Maths" and recording.session_id is not None
    assert recording.transcript[0]["text"] == "Let's start"
    assert item.description == "Finish exercise 4"
