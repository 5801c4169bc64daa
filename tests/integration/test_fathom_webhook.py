"""The Fathom webhook: verified (Standard Webhooks), stored, processed once, matched."""

import json
import time
import uuid
from typing import Any

from sqlalchemy import func, select

from prepskul.db.models import ActionItem, Recording, WebhookEvent
from prepskul.providers.fathom.signatures import sign
from tests.conftest import FATHOM_SECRET

OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def meeting(meet_link: str | None, recording_id: int = 123456789, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Session: Mathematics", "meeting_title": None, "recording_id": recording_id,
        "url": f"https://fathom.video/calls/{recording_id}", "share_url": "https://fathom.video/share/x",
        "meeting_url": meet_link, "created_at": "2026-03-01T17:01:30Z",
        "scheduled_start_time": None, "scheduled_end_time": None,
        "recording_start_time": None, "recording_end_time": None,
        "calendar_invitees_domains_type": "one_or_more_external", "transcript_language": "en",
        "calendar_invitees": [], "recorded_by": {"name": "VA", "email": "va@prepskul.test"},
        "transcript": [{"speaker": {"display_name": "Dr. Ngono",
                                    "matched_calendar_invitee_email": "ngono@tutors.prepskul.test"},
                        "text": "Let's start with fractions.", "timestamp": "00:05:32"}],
        "default_summary": {"template_name": "general",
                            "markdown_formatted": "## Summary\nFractions"},
        "action_items": [{"description": "Finish exercise 4", "user_generated": False,
                          "completed": False, "recording_timestamp": "00:10:45",
                          "recording_playback_url": "https://fathom.video/calls/1#t=645",
                          "assignee": {"name": "Sam", "email": "sam@students.prepskul.test",
                                       "team": None}}],
        **extra,
    }


def signed(body: bytes, secret: str = FATHOM_SECRET, msg_id: str | None = None,
           at: int | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = at if at is not None else int(time.time())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, msg_id, ts, body),
            "content-type": "application/json"}


async def _stored(rt: Any, model: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_unsigned_forged_stale_and_tampered_deliveries_are_refused_and_logged(
    api, rt
) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(meeting(None)).encode()
    good = signed(body)
    cases = {
        "unsigned": {"content-type": "application/json"},
        "wrong secret": signed(body, secret=OTHER_SECRET),
        "stale": signed(body, at=int(time.time()) - 600),
    }
    for name, headers in cases.items():
        response = await api.post("/api/webhooks/fathom", content=body, headers=headers)
        assert response.status_code == 401, name
    tampered = await api.post("/api/webhooks/fathom", content=body.replace(b"123", b"999"),
                              headers=good)
    assert tampered.status_code == 401
    async with rt.sessions() as db:
        states = (await db.scalars(select(WebhookEvent.state))).all()
    assert states == ["rejected"] * 4
    assert await _stored(rt, Recording) == 0


async def test_malformed_json_is_400_and_oversized_is_413(api) -> None:  # type: ignore[no-untyped-def]
    bad = b"{not json"
    assert (await api.post("/api/webhooks/fathom", content=bad,
                           headers=signed(bad))).status_code == 400
    huge = b"x" * (5 * 1024 * 1024 + 1)
    response = await api.post("/api/webhooks/fathom", content=huge,
                              headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_a_rotated_secret_is_accepted(api, rt, settings) -> None:  # type: ignore[no-untyped-def]
    original = settings.fathom_webhook_secret
    settings.fathom_webhook_secret = f"{OTHER_SECRET} {FATHOM_SECRET}"
    try:
        body = json.dumps(meeting(None)).encode()
        ok = await api.post("/api/webhooks/fathom", content=body, headers=signed(body))
        assert ok.status_code == 200
    finally:
        settings.fathom_webhook_secret = original


async def test_the_notes_complete_the_session_once_however_often_they_are_sent(
    api, auth, paid_session, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    link = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()[
        "meet_link"]
    body = json.dumps(meeting(link)).encode()
    headers = signed(body, msg_id="msg_same")
    for _ in range(3):  # resends keep their webhook-id
        assert (await api.post("/api/webhooks/fathom", content=body,
                               headers=headers)).status_code == 200
    again = json.dumps(meeting(link)).encode()  # same recording, new delivery id
    await api.post("/api/webhooks/fathom", content=again, headers=signed(again))
    await worker.drain()
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    # Only the tutor is heard in these notes: the lesson's outcome follows (issue 20).
    assert (seen["status"], seen["recording_state"]) == ("student_no_show", "ready")
    assert await _stored(rt, Recording) == 1
    async with rt.sessions() as db:
        [item] = (await db.scalars(select(ActionItem))).all()
    assert item.homework and item.due_at is not None


async def test_an_unmatched_recording_is_kept_for_an_operator(api, worker, rt) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(meeting("https://meet.google.com/nob-odyy-eee", recording_id=77)).encode()
    await api.post("/api/webhooks/fathom", content=body, headers=signed(body))
    await worker.drain()
    async with rt.sessions() as db:
        recording = (await db.scalars(select(Recording))).one()
    assert (recording.session_id, recording.match) == (None, "unmatched")


async def test_a_burst_is_stored_together_each_delivery_once_with_its_job(api, rt) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from prepskul.db.models import Job

    bodies = [json.dumps(meeting(None, recording_id=700 + n)).encode() for n in range(40)]
    signed_all = [(body, signed(body, msg_id=f"msg_burst_{n}")) for n, body in enumerate(bodies)]
    resent = signed_all[:10]  # the same deliveries again, inside the same burst
    answers = await asyncio.gather(*(api.post("/api/webhooks/fathom", content=b, headers=h)
                                     for b, h in signed_all + resent))
    assert {a.status_code for a in answers} == {200}
    assert sum(not a.json()["duplicate"] for a in answers) == 40
    async with rt.sessions() as db:
        events = (await db.scalars(select(WebhookEvent))).all()
        jobs = (await db.scalars(select(Job).where(Job.kind == "process_fathom_webhook"))).all()
    assert len(events) == 40 and len(jobs) == 40
    assert {j.payload["event_id"] for j in jobs} == {e.id for e in events}


async def test_a_signed_delivery_of_an_unexpected_shape_is_kept_for_an_operator_not_retried(
    api, auth, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    from prepskul.db.models import Job

    odd = meeting(None, recording_id=88, calendar_invitees="everyone",
                  transcript=[{"speaker": {"display_name": "A"}, "text": ["not", "text"]}])
    body = json.dumps(odd).encode()
    assert (await api.post("/api/webhooks/fathom", content=body,
                           headers=signed(body))).status_code == 200
    await worker.drain()
    async with rt.sessions() as db:
        job = (await db.scalars(select(Job).where(Job.kind == "process_fathom_webhook"))).one()
    assert (job.status, job.attempts) == ("done", 1)  # not retried eight times into the dead
    listed = (await api.get("/api/admin/webhooks?provider=fathom&state=unreadable",
                            headers=auth("admin"))).json()
    assert len(listed) == 1 and listed[0]["verified"]
    assert "calendar_invitees" in listed[0]["error"] and "transcript.0.text" in listed[0]["error"]
    assert await _stored(rt, Recording) == 0


async def test_fathoms_loose_shapes_are_read_and_only_https_links_are_kept(
    api, auth, paid_session, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    link = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()[
        "meet_link"]
    loose = meeting(link, share_url="javascript:alert(1)", url=None, title=None,
                    recording_start_time=None, calendar_invitees=None, action_items=[
                        {"description": "Read chapter 2", "assignee": None,
                         "recording_playback_url": "javascript:alert(document.cookie)"},
                        {"description": "Exercise 5", "recording_timestamp": "00:12:00",
                         "recording_playback_url": "https://fathom.video/calls/1#t=720",
                         "assignee": {"name": None, "email": "SAM@students.prepskul.test"}}],
                    transcript=[{"speaker": "Sam Student", "text": "Hello", "timestamp": None},
                                {"speaker": None, "text": "…"},
                                {"speaker": {"display_name": "Dr. Ngono",
                                             "matched_calendar_invitee_email": None},
                                 "text": "Good", "timestamp": "00:00:09"}])
    body = json.dumps(loose).encode()
    assert (await api.post("/api/webhooks/fathom", content=body,
                           headers=signed(body))).status_code == 200
    await worker.drain()
    notes = (await api.get(f"/api/sessions/{session['id']}/recording",
                           headers=auth("student"))).json()
    assert notes["share_url"] is None
    assert [line["speaker"] for line in notes["transcript"]] == [
        "Sam Student", None, "Dr. Ngono"]
    urls = {item["description"]: item["playback_url"] for item in notes["action_items"]}
    assert urls == {"Read chapter 2": None,
                    "Exercise 5": "https://fathom.video/calls/1#t=720"}
    homework = [i for i in notes["action_items"] if i["homework"]]
    assert [i["description"] for i in homework] == ["Exercise 5"]
