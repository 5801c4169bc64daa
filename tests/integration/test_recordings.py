"""The lesson's notes, end to end through the fake Fathom: recorded, delivered signed,
completed once, readable by tutor and student only, with attendance and homework."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from prepskul.providers.errors import PermanentProviderError, RetryableProviderError
from prepskul.providers.fathom.client import FathomClient
from prepskul.sandbox.fathom import Destination


async def _recording(api: Any, auth: Any, session: dict[str, Any], who: str) -> Any:
    return await api.get(f"/api/sessions/{session['id']}/recording", headers=auth(who))


async def test_after_the_lesson_the_notes_reach_tutor_and_student_and_nobody_else(
    api, auth, paid_session, lesson
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    await lesson(session)
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert (seen["status"], seen["recording_state"]) == ("completed", "ready")
    for who in ("student", "tutor", "admin"):
        notes = await _recording(api, auth, session, who)
        assert notes.status_code == 200, who
    body = notes.json()
    assert body["summary_markdown"].startswith("## Summary")
    assert body["transcript"][0]["speaker"] == "Dr. Ngono"
    assert body["attendance"]["tutor"] == "present" and body["attendance"]["student"] == "present"
    [homework] = body["action_items"]
    assert homework["homework"] and homework["assignee_email"] == "sam@students.prepskul.test"
    assert (await _recording(api, auth, session, "child")).status_code == 404


async def test_a_webhook_with_only_the_summary_still_yields_the_full_notes(
    api, auth, paid_session, lesson, sandbox
) -> None:  # type: ignore[no-untyped-def]
    dashboard = sandbox.fathom.default_destination
    dashboard.includes = {"include_summary": True}  # transcript and action items absent
    session = await paid_session()
    await lesson(session)
    body = (await _recording(api, auth, session, "tutor")).json()
    assert len(body["transcript"]) == 4  # fetched from /recordings/{id}/transcript
    assert len(body["action_items"]) == 1  # found through the paged /meetings list


async def test_an_absent_student_is_reported_absent(
    api, auth, paid_session, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    sandbox.fathom.resend_scale = 0.0001
    sandbox.fathom.record(
        title="Session: Mathematics", meeting_url=seen["meet_link"],
        starts_at=datetime.fromisoformat(seen["starts_at"]),
        ends_at=datetime.fromisoformat(seen["ends_at"]),
        tutor=("Dr. Ngono", "ngono@tutors.prepskul.test"),
        student=("Sam Student", "sam@students.prepskul.test"),
        va=("VA", rt.settings.va_email), present=["ngono@tutors.prepskul.test"])
    await sandbox.fathom.flush()
    await worker.drain()
    attendance = (await _recording(api, auth, session, "tutor")).json()["attendance"]
    assert (attendance["tutor"], attendance["student"]) == ("present", "absent")


async def test_the_student_ticks_homework_and_the_tutor_sees_it(
    api, auth, paid_session, lesson
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    await lesson(session)
    [item] = (await _recording(api, auth, session, "student")).json()["action_items"]
    done = await api.patch(f"/api/action-items/{item['id']}", json={"done": True},
                           headers=auth("student"))
    assert done.status_code == 200 and done.json()["done_at"]
    [seen] = (await _recording(api, auth, session, "tutor")).json()["action_items"]
    assert seen["done_at"] == done.json()["done_at"]
    stranger = await api.patch(f"/api/action-items/{item['id']}", json={"done": False},
                               headers=auth("child"))
    assert stranger.status_code == 404


async def test_a_lesson_without_notes_is_marked_missing_for_operators(
    api, auth, paid_session, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=3)
    clock.advance(timedelta(hours=3 + 1 + 6, minutes=1))  # ended more than 6 h ago
    await worker.drain()
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert seen["recording_state"] == "missing"
    attention = (await api.get("/api/admin/sessions/attention", headers=auth("admin"))).json()
    assert [s["id"] for s in attention] == [session["id"]]


async def test_an_unmatched_recording_waits_for_an_operator_who_assigns_it(
    api, auth, paid_session, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    sandbox.fathom.resend_scale = 0.0001
    far = clock.now() + timedelta(days=30)  # not its time, not its link: no guess
    sandbox.fathom.record(title="Unscheduled call", meeting_url=None, starts_at=far,
                          ends_at=far + timedelta(hours=1),
                          tutor=("Dr. Ngono", "ngono@tutors.prepskul.test"),
                          student=("Sam Student", "sam@students.prepskul.test"),
                          va=("VA", rt.settings.va_email))
    await sandbox.fathom.flush()
    await worker.drain()
    waiting = (await api.get("/api/admin/recordings/unassigned", headers=auth("admin"))).json()
    assert [r["match"] for r in waiting] == ["unmatched"]
    by_tutor = await api.post(f"/api/admin/recordings/{waiting[0]['id']}/assign",
                              json={"session_id": session["id"]}, headers=auth("tutor"))
    assert by_tutor.status_code == 403
    assigned = await api.post(f"/api/admin/recordings/{waiting[0]['id']}/assign",
                              json={"session_id": session["id"]}, headers=auth("admin"))
    assert assigned.status_code == 204
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert seen["status"] == "completed"
    assert (await api.get("/api/admin/recordings/unassigned", headers=auth("admin"))).json() == []


async def test_fathom_resends_a_refused_delivery_on_its_schedule_with_the_same_id(
    sandbox, settings
) -> None:  # type: ignore[no-untyped-def]
    sandbox.fathom.resend_scale = 0.00001  # ~28 h of Svix schedule in one second
    sandbox.fathom.webhooks["bad"] = Destination(
        "bad", f"{settings.public_base_url}/api/webhooks/nowhere", "whsec_AAAA", {})
    sandbox.fathom.record(title="t", meeting_url=None, starts_at=datetime.now().astimezone(),
                          ends_at=datetime.now().astimezone(), tutor=("T", "t@x.cm"),
                          student=("S", "s@x.cm"), va=("V", "v@x.cm"))
    await sandbox.fathom.flush()
    assert [status for _, _, status in sandbox.fathom.deliveries] == [404] * 8
    assert len({msg_id for _, msg_id, _ in sandbox.fathom.deliveries}) == 1


async def test_the_fake_fathom_checks_its_key_and_rate_limits_like_fathom(rt, sandbox) -> None:  # type: ignore[no-untyped-def]
    stranger = FathomClient(rt.http, base_url=rt.fathom.base_url, api_key="wrong")
    with pytest.raises(PermanentProviderError) as refused:
        await stranger.summary(1)
    assert refused.value.status == 401
    for _ in range(60):  # Fathom allows 60 calls a minute
        with pytest.raises(PermanentProviderError):  # 404: unknown recording, but counted
            await rt.fathom.summary(1)
    with pytest.raises(RetryableProviderError) as limited:
        await rt.fathom.summary(1)
    assert limited.value.status == 429 and limited.value.retry_after is not None
