"""After the lesson, through the public API: joining is evidence, every session gets an
outcome, the family confirms (or silence does), reviews follow, and the edges — late notes,
racing confirmations, a review for a cancelled session, a report after its window — each
have one defined outcome."""

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from prepskul.db.models import ChangeEvent, Notification, OperatorAction
from prepskul.services.demo import demo_user

TUTOR_EMAIL = "ngono@tutors.prepskul.test"
STUDENT_EMAIL = "sam@students.prepskul.test"


@pytest.fixture
def lesson_time(clock):  # type: ignore[no-untyped-def]
    """Move the shared clock relative to a session's start."""

    def to(session: dict[str, Any], after_start: timedelta) -> None:
        clock.set(datetime.fromisoformat(session["starts_at"]) + after_start)

    return to


@pytest.fixture
def reported(paid_session, lesson_time, api, auth):  # type: ignore[no-untyped-def]
    """A paid lesson, just over, on which the tutor has filed the report."""

    async def make(*who: str, learner_present: bool, **booking: Any) -> dict[str, Any]:
        session: dict[str, Any] = await paid_session(*who, hours_ahead=3, **booking)
        lesson_time(session, timedelta(minutes=61))
        filed = await _post(api, auth, "tutor", f"/api/sessions/{session['id']}/report",
                            {"topic": "Fractions", "learner_present": learner_present})
        assert filed.status_code == 200, filed.text
        return session

    return make


@pytest.fixture
def notes(api, auth, sandbox, worker, rt):  # type: ignore[no-untyped-def]
    """Fathom's notes for a session: who spoke, and what was said."""
    sandbox.fathom.resend_scale = 0.0001

    async def deliver(session: dict[str, Any], present: list[str],
                      lines: list[str] | None = None) -> None:
        seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("tutor"))).json()
        sandbox.fathom.record(
            title="Session: Mathematics", meeting_url=seen["meet_link"],
            starts_at=datetime.fromisoformat(seen["starts_at"]),
            ends_at=datetime.fromisoformat(seen["ends_at"]),
            tutor=("Dr. Ngono", TUTOR_EMAIL), student=("Sam Student", STUDENT_EMAIL),
            va=("VA", rt.settings.va_email), present=present, lines=lines)
        await sandbox.fathom.flush()
        await worker.drain()

    return deliver


async def _post(api: Any, auth: Any, who: str, path: str, body: Any = None) -> Any:
    return await api.post(path, json=body, headers=auth(who))


async def _outcome(api: Any, auth: Any, session: dict[str, Any], who: str = "student") -> Any:
    response = await api.get(f"/api/sessions/{session['id']}/outcome", headers=auth(who))
    assert response.status_code == 200, response.text
    return response.json()


async def _count(rt: Any, model: Any, *where: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_join_records_who_and_when_and_answers_the_meet_link(
    api, auth, paid_session, lesson_time, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=3)
    path = f"/api/sessions/{session['id']}/join"
    lesson_time(session, -timedelta(minutes=16))
    early = await _post(api, auth, "student", path)
    assert early.status_code == 409 and early.json()["code"] == "join_not_open"
    lesson_time(session, -timedelta(minutes=15))
    joined = await _post(api, auth, "student", path)
    assert joined.status_code == 200 and joined.json()["meet_link"].startswith("https://meet.")
    assert (await _post(api, auth, "admin", path)).status_code == 403  # not evidence
    assert (await _post(api, auth, "child", path)).status_code == 404  # not theirs
    lesson_time(session, timedelta(hours=1, seconds=1))
    late = await _post(api, auth, "tutor", path)
    assert late.status_code == 409 and late.json()["code"] == "join_closed"


async def test_a_session_with_no_evidence_goes_to_operators_who_decide_with_a_reason(
    api, auth, paid_session, lesson_time, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=3)
    lesson_time(session, timedelta(minutes=60 + 19))
    await worker.drain()
    assert (await _outcome(api, auth, session))["status"] == "scheduled"  # grace not over
    lesson_time(session, timedelta(minutes=60 + 24))  # the sweep's next 5-minute run
    await worker.drain()
    assert (await _outcome(api, auth, session))["outcome"] == "unresolved"
    queue = (await api.get("/api/admin/outcomes/awaiting", headers=auth("admin"))).json()
    assert [q["session"]["id"] for q in queue] == [session["id"]]
    assert await _attention(api, "outcomes_awaiting_operator") == 1
    decision = {"outcome": "student_no_show", "reason": "the tutor sent a screenshot"}
    path = f"/api/admin/sessions/{session['id']}/outcome"
    assert (await _post(api, auth, "tutor", path, decision)).status_code == 403
    no_reason = await _post(api, auth, "admin", path, {**decision, "reason": " "})
    assert no_reason.status_code == 422
    decided = await _post(api, auth, "admin", path, decision)
    assert decided.status_code == 200, decided.text
    seen = await _outcome(api, auth, session)
    assert (seen["status"], seen["settled_how"]) == ("student_no_show", "operator")
    assert await _count(rt, OperatorAction,
                        OperatorAction.subject == f"session:{session['id']}") == 1
    again = await _post(api, auth, "admin", path, decision)
    assert again.status_code == 409 and again.json()["code"] == "already_settled"
    assert (await api.get("/api/admin/outcomes/awaiting", headers=auth("admin"))).json() == []
    assert await _attention(api, "outcomes_awaiting_operator") == 0


async def _attention(api: Any, what: str) -> int:
    """What /metrics counts for operators to look at (the alert rules watch it)."""
    found = re.search(rf'^prepskul_attention\{{what="{what}"\}} (\S+)$',
                      (await api.get("/metrics")).text, re.M)
    assert found is not None, what
    return int(float(found[1]))


async def test_a_held_lesson_is_confirmed_by_the_parent_then_rated_and_answered(
    api, auth, paid_session, lesson_time, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session("parent", student_id=str(demo_user("child").id),
                                 hours_ahead=3)
    lesson_time(session, -timedelta(minutes=5))
    for who in ("tutor", "child"):
        assert (await _post(api, auth, who, f"/api/sessions/{session['id']}/join")
                ).status_code == 200
    lesson_time(session, timedelta(minutes=61))
    report = {"topic": "Fractions", "learner_present": True, "notes": "good progress"}
    reported = await _post(api, auth, "tutor", f"/api/sessions/{session['id']}/report", report)
    assert reported.status_code == 200, reported.text
    body = reported.json()
    assert (body["outcome"], body["tutor_attendance"], body["learner_attendance"]) == (
        "completed", "present", "present")
    early = await _post(api, auth, "parent", f"/api/sessions/{session['id']}/review",
                        {"rating": 5})
    assert early.status_code == 409 and early.json()["code"] == "not_reviewable"
    assert (await _post(api, auth, "tutor", f"/api/sessions/{session['id']}/confirm")
            ).status_code == 403
    confirmed = await _post(api, auth, "parent", f"/api/sessions/{session['id']}/confirm")
    assert confirmed.json()["settled_how"] == "confirmed"
    rated = await _post(api, auth, "parent", f"/api/sessions/{session['id']}/review",
                        {"rating": 5, "comment": "Très bon cours"})
    assert rated.status_code == 201, rated.text
    twice = await _post(api, auth, "child", f"/api/sessions/{session['id']}/review",
                        {"rating": 1})
    assert twice.status_code == 409 and twice.json()["code"] == "already_reviewed"
    bad = await _post(api, auth, "child", f"/api/sessions/{session['id']}/review", {"rating": 6})
    assert bad.status_code == 422
    path = f"/api/sessions/{session['id']}/review/reply"
    replied = await _post(api, auth, "tutor", path, {"reply": "Merci !"})
    assert replied.status_code == 200 and replied.json()["reply"] == "Merci !"
    again = await _post(api, auth, "tutor", path, {"reply": "Encore merci"})
    assert again.status_code == 409 and again.json()["code"] == "already_replied"
    async with rt.sessions() as db:
        kinds = set((await db.scalars(select(Notification.kind).where(
            Notification.user_id == demo_user("tutor").id))).all())
    assert {"outcome_completed", "lesson_settled", "review_received"} <= kinds


async def test_the_tutor_list_shows_an_average_from_three_visible_reviews(
    api, auth, paid_session, lesson_time, worker
) -> None:  # type: ignore[no-untyped-def]
    async def rated(rating: int, hours: int) -> dict[str, Any]:
        session = await paid_session(hours_ahead=hours)
        lesson_time(session, timedelta(minutes=61))
        await _post(api, auth, "tutor", f"/api/sessions/{session['id']}/report",
                    {"topic": "Algebra", "learner_present": True})
        await _post(api, auth, "student", f"/api/sessions/{session['id']}/confirm")
        review = await _post(api, auth, "student", f"/api/sessions/{session['id']}/review",
                             {"rating": rating})
        assert review.status_code == 201, review.text
        result: dict[str, Any] = review.json()
        return result

    async def shown() -> tuple[Any, Any]:
        tutors = (await api.get("/api/tutors", headers=auth("student"))).json()["items"]
        [ngono] = [t for t in tutors if t["full_name"] == "Dr. Ngono"]
        return ngono["rating_average"], ngono["rating_count"]

    first = await rated(5, 3)
    await rated(4, 6)
    assert await shown() == (None, None)
    await rated(4, 9)
    assert await shown() == (4.3, 3)
    hide = f"/api/admin/reviews/{first['id']}/hide"
    assert (await _post(api, auth, "tutor", hide, {"reason": "x"})).status_code == 403
    assert (await _post(api, auth, "admin", hide, {"reason": "insults the tutor"})
            ).status_code == 200
    assert await shown() == (None, None)
    listed = (await api.get(f"/api/tutors/{demo_user('tutor').id}/reviews",
                            headers=auth("student"))).json()
    assert first["id"] not in [r["id"] for r in listed] and len(listed) == 2


async def test_silence_confirms_once_the_window_has_passed(
    api, auth, reported, paid_session, lesson_time, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await reported(learner_present=False)
    seen = await _outcome(api, auth, session)
    assert seen["outcome"] == "student_no_show"
    lesson_time(session, timedelta(minutes=61, hours=71))
    await worker.drain()
    assert (await _outcome(api, auth, session))["settled_at"] is None
    lesson_time(session, timedelta(minutes=62, hours=72))
    await worker.drain()
    seen = await _outcome(api, auth, session)
    assert (seen["status"], seen["settled_how"]) == ("student_no_show", "silence")
    late = await _post(api, auth, "student", f"/api/sessions/{session['id']}/problem",
                       {"problem": "I was there"})
    assert late.status_code == 409 and late.json()["code"] == "confirm_window_closed"


async def test_a_reported_problem_waits_for_an_operator_whatever_evidence_follows(
    api, auth, reported, paid_session, lesson_time, notes, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await reported(learner_present=False)
    problem = await _post(api, auth, "student", f"/api/sessions/{session['id']}/problem",
                          {"problem": "I was in the Meet, the tutor never came"})
    assert problem.json()["outcome"] == "disputed"
    await notes(session, present=[TUTOR_EMAIL, STUDENT_EMAIL])
    assert (await _outcome(api, auth, session))["outcome"] == "disputed"
    cannot = await _post(api, auth, "student", f"/api/sessions/{session['id']}/confirm")
    assert cannot.status_code == 409 and cannot.json()["code"] == "awaiting_operator"
    queue = (await api.get("/api/admin/outcomes/awaiting", headers=auth("admin"))).json()
    assert queue[0]["outcome"]["problem"].startswith("I was in the Meet")


# --- reliability: each edge has one defined outcome ---------------------------------------

async def test_notes_after_a_no_show_revise_it_until_someone_has_spoken(
    api, auth, reported, paid_session, lesson_time, notes, worker
) -> None:  # type: ignore[no-untyped-def]
    """The tutor reported the learner absent; Fathom then hears the learner: disputed, for
    an operator. Had nobody reported, the notes would simply have made it `completed`."""
    session = await reported(learner_present=False)
    assert (await _outcome(api, auth, session))["outcome"] == "student_no_show"
    await notes(session, present=[TUTOR_EMAIL, STUDENT_EMAIL])
    seen = await _outcome(api, auth, session)
    assert (seen["outcome"], seen["settled_at"]) == ("disputed", None)

    other = await paid_session(hours_ahead=6)
    lesson_time(other, -timedelta(minutes=1))
    await _post(api, auth, "tutor", f"/api/sessions/{other['id']}/join")
    lesson_time(other, timedelta(minutes=81))
    await worker.drain()
    assert (await _outcome(api, auth, other))["outcome"] == "student_no_show"
    await notes(other, present=[TUTOR_EMAIL, STUDENT_EMAIL])
    assert (await _outcome(api, auth, other))["outcome"] == "completed"


async def test_notes_after_the_outcome_was_settled_are_kept_and_change_nothing(
    api, auth, reported, paid_session, lesson_time, notes, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await reported(learner_present=False)
    await _post(api, auth, "student", f"/api/sessions/{session['id']}/confirm")
    await notes(session, present=[TUTOR_EMAIL, STUDENT_EMAIL])
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert (seen["status"], seen["recording_state"]) == ("student_no_show", "ready")


async def test_two_racing_confirmations_settle_the_lesson_once(
    api, auth, paid_session, lesson_time, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session("parent", student_id=str(demo_user("child").id),
                                 hours_ahead=3)
    lesson_time(session, timedelta(minutes=61))
    await _post(api, auth, "tutor", f"/api/sessions/{session['id']}/report",
                {"topic": "Fractions", "learner_present": True})
    path = f"/api/sessions/{session['id']}/confirm"
    answers = await asyncio.gather(*(_post(api, auth, who, path)
                                     for who in ("parent", "child", "parent", "child")))
    assert [a.status_code for a in answers] == [200] * 4
    assert {a.json()["settled_how"] for a in answers} == {"confirmed"}
    settled = await _count(rt, ChangeEvent, ChangeEvent.type == "lesson.settled",
                           ChangeEvent.session_id == session["id"])
    assert settled == 1


async def test_a_cancelled_session_takes_no_review_no_report_and_no_join(
    api, auth, paid_session, lesson_time
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=3)
    cancelled = await _post(api, auth, "student", f"/api/sessions/{session['id']}/cancel",
                            {"reason": "ill"})
    assert cancelled.status_code == 200
    lesson_time(session, timedelta(minutes=61))
    for who, action, body, code in (
        ("student", "review", {"rating": 4}, "not_reviewable"),
        ("tutor", "report", {"topic": "x", "learner_present": True}, "no_lesson"),
        ("student", "join", None, "no_meeting"),
        ("student", "confirm", None, "no_outcome"),
    ):
        refused = await _post(api, auth, who, f"/api/sessions/{session['id']}/{action}", body)
        assert (refused.status_code, refused.json()["code"]) == (409, code), action


async def test_a_report_after_its_window_is_refused_and_changes_nothing(
    api, auth, paid_session, lesson_time, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=3)
    lesson_time(session, timedelta(hours=1 + 24, seconds=1))
    await worker.drain()
    before = await _outcome(api, auth, session, "tutor")
    late = await _post(api, auth, "tutor", f"/api/sessions/{session['id']}/report",
                       {"topic": "Fractions", "learner_present": True})
    assert late.status_code == 409 and late.json()["code"] == "report_window_closed"
    assert await _outcome(api, auth, session, "tutor") == before
    assert before["outcome"] == "unresolved"


async def test_off_platform_payment_in_a_transcript_reaches_operators_only(
    api, auth, paid_session, lesson_time, notes, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=3)
    lesson_time(session, timedelta(minutes=61))
    await notes(session, present=[TUTOR_EMAIL, STUDENT_EMAIL], lines=[
        "Bonjour Sam, on continue les fractions.",
        "D'accord monsieur.",
        "Pour les prochaines séances, paie-moi directement par Orange Money au 677 12 34 56.",
        "Je vais demander à mon père.",
    ])
    flags = (await api.get("/api/admin/flags", headers=auth("admin"))).json()
    assert {f["rule"] for f in flags} >= {"pay_directly", "phone_number"}
    assert {f["speaker"] for f in flags} == {"Dr. Ngono"}
    assert all("Orange Money" in f["excerpt"] for f in flags)
    assert await _attention(api, "transcript_flags_open") == len(flags)
    for who in ("student", "tutor"):
        assert (await api.get("/api/admin/flags", headers=auth(who))).status_code == 403
    async with rt.sessions() as db:
        leaked = await db.scalar(select(func.count()).select_from(ChangeEvent).where(
            ChangeEvent.type.like("%flag%")))
    assert leaked == 0
    resolve = f"/api/admin/flags/{flags[0]['id']}/resolve"
    done = await _post(api, auth, "admin", resolve,
                       {"resolution": "actioned", "note": "warned the tutor"})
    assert done.status_code == 200 and done.json()["status"] == "actioned"
    assert len((await api.get("/api/admin/flags", headers=auth("admin"))).json()) == len(
        flags) - 1
    assert await _attention(api, "transcript_flags_open") == len(flags) - 1
