"""Moves by agreement, over real HTTP: one party proposes a new time for a paid session,
the proposed slot is held meanwhile, the other party accepts (the session and its Calendar
event move, everyone is told) or declines, or lets it expire (nothing changes, the slot is
free again); an operator moves a session directly; bad proposals change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from prepskul.db.models import Notification, TimeHold
from prepskul.domain.holds import HoldPurpose
from prepskul.services import proposals
from prepskul.services.demo import demo_user

CHILD = str(demo_user("child").id)


def _at(clock: Any, hours: float) -> datetime:
    return (clock.now() + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


async def _propose(api: Any, auth: Any, session: dict[str, Any], when: datetime,
                   who: str = "student") -> Any:
    return await api.post(f"/api/sessions/{session['id']}/proposals",
                          json={"starts_at": when.isoformat()}, headers=auth(who))


async def _answer(api: Any, auth: Any, session: dict[str, Any], proposal: dict[str, Any],
                  answer: str, who: str) -> Any:
    return await api.post(
        f"/api/sessions/{session['id']}/proposals/{proposal['id']}/{answer}", headers=auth(who))


async def _seen(api: Any, auth: Any, session: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = (await api.get(f"/api/sessions/{session['id']}",
                                          headers=auth("student"))).json()
    return seen


async def _kinds(rt: Any, who: str) -> list[str]:
    async with rt.sessions() as db:
        return list(await db.scalars(select(Notification.kind).where(
            Notification.user_id == demo_user(who).id)))


async def _move_holds(rt: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(TimeHold).where(
            TimeHold.purpose == HoldPurpose.MOVE)) or 0)


async def _book_the_proposed_slot(api: Any, auth: Any, book: Any, clock: Any,
                                  session: dict[str, Any], proposal: dict[str, Any]) -> None:
    """Someone else books the slot the proposal held: it is free, and the proposal expired."""
    target = datetime.fromisoformat(proposal["starts_at"])
    await book("parent", student_id=CHILD,
               hours_ahead=(target - clock.now()) / timedelta(hours=1))
    listed = (await api.get(f"/api/sessions/{session['id']}/proposals",
                            headers=auth("student"))).json()
    assert [p["state"] for p in listed] == ["expired"]


async def test_an_accepted_proposal_moves_the_session_and_its_event(
    api, auth, paid_session, book, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    before = await _seen(api, auth, session)
    new_start = _at(clock, 24 * 4)
    proposed = await _propose(api, auth, session, new_start)
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    assert (proposal["state"], proposal["proposer_side"]) == ("pending", "learner")
    assert "move_proposed" in await _kinds(rt, "tutor")
    # Until answered, the session keeps its time and the proposed slot is held from others.
    assert (await _seen(api, auth, session))["starts_at"] == before["starts_at"]
    await book("parent", student_id=CHILD,
               hours_ahead=(new_start - clock.now()) / timedelta(hours=1), expect=409)
    own = await _answer(api, auth, session, proposal, "accept", "student")
    assert (own.status_code, own.json()["code"]) == (403, "not_your_answer")

    accepted = await _answer(api, auth, session, proposal, "accept", "tutor")
    assert accepted.status_code == 200, accepted.text
    assert datetime.fromisoformat(accepted.json()["starts_at"]) == new_start
    await worker.drain()
    [event] = sandbox.calendar.events.values()
    local = new_start.astimezone(ZoneInfo("Africa/Douala"))
    assert event["start"]["dateTime"] == local.replace(tzinfo=None).isoformat(timespec="seconds")
    assert (await _seen(api, auth, session))["meet_link"] == before["meet_link"]
    assert "rescheduled" in await _kinds(rt, "student")
    assert await _move_holds(rt) == 0
    # The old slot is free again.
    old = datetime.fromisoformat(before["starts_at"])
    await book("parent", student_id=CHILD, hours_ahead=(old - clock.now()) / timedelta(hours=1))
    listed = (await api.get(f"/api/sessions/{session['id']}/proposals",
                            headers=auth("tutor"))).json()
    assert [p["state"] for p in listed] == ["accepted"]


async def test_a_declined_or_unanswered_proposal_changes_nothing_and_frees_its_slot(
    api, auth, paid_session, book, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=24 * 5)
    before = await _seen(api, auth, session)
    first = (await _propose(api, auth, session, _at(clock, 24 * 6), who="tutor")).json()
    declined = await _answer(api, auth, session, first, "decline", "student")
    assert (declined.status_code, declined.json()["state"]) == (200, "declined")
    assert await _move_holds(rt) == 0
    assert "move_declined" in await _kinds(rt, "tutor")

    second = (await _propose(api, auth, session, _at(clock, 24 * 7))).json()
    assert datetime.fromisoformat(second["expires_at"]) == clock.now() + timedelta(hours=48)
    clock.advance(timedelta(hours=48, seconds=1))
    late = await _answer(api, auth, session, second, "accept", "tutor")
    assert (late.status_code, late.json()["code"]) == (409, "proposal_closed")
    assert await proposals.sweep_expired(rt) == 1
    assert await _move_holds(rt) == 0
    assert "move_expired" in await _kinds(rt, "student")
    after = await _seen(api, auth, session)
    assert (after["starts_at"], after["status"]) == (before["starts_at"], before["status"])


async def test_cancelling_a_session_frees_the_slot_its_pending_proposal_held(
    api, auth, paid_session, book, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=24 * 5)
    proposal = (await _propose(api, auth, session, _at(clock, 24 * 6))).json()
    cancelled = await api.post(f"/api/sessions/{session['id']}/cancel",
                               json={"reason": "moving abroad"}, headers=auth("student"))
    assert cancelled.status_code == 200, cancelled.text
    assert await _move_holds(rt) == 0
    await _book_the_proposed_slot(api, auth, book, clock, session, proposal)


async def test_a_lapsed_proposal_gives_way_to_a_booking_before_any_sweep(
    api, auth, paid_session, book, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=24 * 5)
    proposal = (await _propose(api, auth, session, _at(clock, 24 * 6))).json()
    clock.advance(timedelta(hours=48, seconds=1))
    await _book_the_proposed_slot(api, auth, book, clock, session, proposal)


async def test_bad_proposals_are_refused_and_change_nothing(
    api, auth, paid_session, book, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    other = await book("parent", student_id=CHILD, hours_ahead=24 * 3)
    day_off = _at(clock, 24 * 5).astimezone(ZoneInfo("Africa/Douala"))
    hours = (await api.get("/api/me/availability", headers=auth("tutor"))).json()
    hours["exceptions"].append({"date": day_off.date().isoformat(), "available": False})
    assert (await api.put("/api/me/availability", json=hours,
                          headers=auth("tutor"))).status_code == 200
    cancelled = await book("student", hours_ahead=24 * 8)
    await api.post(f"/api/sessions/{cancelled['id']}/cancel", json={"reason": "ill"},
                   headers=auth("student"))
    before = await _seen(api, auth, session)

    refusals = [
        (await _propose(api, auth, cancelled, _at(clock, 24 * 9)), 409, "cannot_reschedule"),
        (await _propose(api, auth, session, day_off), 409, "outside_availability"),
        (await _propose(api, auth, session, datetime.fromisoformat(other["starts_at"])),
         409, "slot_taken"),
        (await _propose(api, auth, session, _at(clock, -5)), 422, None),
        (await api.post(f"/api/sessions/{session['id']}/proposals",
                        json={"starts_at": "tomorrow"}, headers=auth("student")), 422, None),
        (await api.post(f"/api/sessions/{session['id']}/reschedule",
                        json={"starts_at": _at(clock, 24 * 4).isoformat()},
                        headers=auth("student")), 409, "move_needs_agreement"),
        (await _propose(api, auth, session, _at(clock, 24 * 4), who="admin"),
         422, "operator_moves_directly"),
    ]
    for response, status, code in refusals:
        assert response.status_code == status, response.text
        if code:
            assert response.json()["code"] == code
    assert await _move_holds(rt) == 0
    assert (await _seen(api, auth, session))["starts_at"] == before["starts_at"]

    pending = (await _propose(api, auth, session, _at(clock, 24 * 4))).json()
    again = await _propose(api, auth, session, _at(clock, 24 * 6), who="tutor")
    assert (again.status_code, again.json()["code"]) == (409, "proposal_pending")
    assert pending["state"] == "pending" and await _move_holds(rt) == 1


async def test_an_operator_moves_a_paid_session_directly(
    api, auth, paid_session, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    new_start = _at(clock, 24 * 4)
    moved = await api.post(f"/api/sessions/{session['id']}/reschedule",
                           json={"starts_at": new_start.isoformat()}, headers=auth("admin"))
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == new_start
