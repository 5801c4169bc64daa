"""Unpaid and unapproved bookings hold a tutor's time for a bounded while, over real HTTP:
the hold lapses (and a lapsed hold never blocks a new booking, swept or not), the Fapshi
link is closed, people are told; a booker's open holds are capped and their attempts
rate-limited; money that arrives after a lapse books the session if its time is free, and
is a refund owed if not."""

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from prepskul.api.auth import mint_token
from prepskul.db.models import Notification, TimeHold, TutoringSession
from prepskul.domain.lifecycle import HOLDS_SLOT, Status
from prepskul.domain.people import Role
from prepskul.services import payments
from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET

LAPSE = timedelta(minutes=30, seconds=1)


async def _session(api: Any, auth: Any, session: dict[str, Any], who: str = "student"
                   ) -> dict[str, Any]:
    seen: dict[str, Any] = (await api.get(f"/api/sessions/{session['id']}",
                                          headers=auth(who))).json()
    return seen


async def _kinds(rt: Any, who: str) -> list[str]:
    async with rt.sessions() as db:
        return list(await db.scalars(select(Notification.kind).where(
            Notification.user_id == demo_user(who).id).order_by(Notification.created_at)))


async def _count(rt: Any, model: Any, *where: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_an_unpaid_booking_holds_its_slot_for_thirty_minutes_then_lets_it_go(
    api, auth, book, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    squatted = await book("student")
    assert datetime.fromisoformat(squatted["hold_expires_at"]) == \
        clock.now() + timedelta(minutes=30)
    await book("parent", student_id=str(demo_user("child").id), expect=409)  # still held
    clock.advance(LAPSE)
    # No sweep has run: the lapsed hold gives way to the new booking all the same.
    taken = await book("parent", student_id=str(demo_user("child").id))
    assert taken["status"] == "awaiting_payment"
    assert (await _session(api, auth, squatted))["status"] == "expired"
    assert "hold_lapsed" in await _kinds(rt, "student")
    assert "hold_lapsed" not in await _kinds(rt, "tutor")  # the tutor waited on nothing


async def test_an_unpaid_booking_hides_its_slot_only_while_it_holds_it(
    api, auth, book, clock
) -> None:  # type: ignore[no-untyped-def]
    on_the_hour = (clock.now() + timedelta(hours=25)).replace(minute=0, second=0, microsecond=0)
    session = await book("student", hours_ahead=(on_the_hour - clock.now()) / timedelta(hours=1))
    start = datetime.fromisoformat(session["starts_at"])
    assert start == on_the_hour  # on the grid of offered times

    async def offered() -> set[datetime]:
        answer = await api.get(f"/api/tutors/{session['tutor_id']}/slots", params={
            "from": (start - timedelta(hours=1)).isoformat(),
            "to": (start + timedelta(hours=1)).isoformat(), "minutes": 60},
            headers=auth("parent"))
        return {datetime.fromisoformat(s) for s in answer.json()["slots"]}

    assert start not in await offered()
    clock.advance(LAPSE)
    assert start in await offered()  # lapsed, not yet swept: offered again all the same


async def test_the_sweep_lapses_holds_closes_the_link_and_fapshi_then_refuses_the_money(
    api, auth, book, pay, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    clock.advance(LAPSE)
    await worker.drain()  # the periodic sweep, then the expire_payment job it enqueued
    assert (await _session(api, auth, session))["status"] == "expired"
    assert sandbox.fapshi.transactions[payment["trans_id"]]["status"] == "EXPIRED"
    late = await api.post(f"{payment['link']}/pay")  # the family's page was still open
    assert late.status_code == 400
    assert "expired" in late.text
    assert sandbox.fapshi.transactions[payment["trans_id"]]["status"] == "EXPIRED"
    assert await _count(rt, TimeHold) == 0
    assert await _kinds(rt, "student") == ["booked", "hold_lapsed"]


async def test_a_lapsed_booking_can_no_longer_be_paid_approved_or_moved(
    api, auth, book, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    trial = await book("student", kind="trial", minutes=30, hours_ahead=48)
    clock.advance(timedelta(hours=48))
    url = f"/api/sessions/{session['id']}"
    refused = [
        await api.post(f"{url}/payments", json={"method": "link"}, headers=auth("student")),
        await api.post(f"/api/sessions/{trial['id']}/approve", headers=auth("tutor")),
        await api.post(f"{url}/reschedule",
                       json={"starts_at": (clock.now() + timedelta(days=3)).isoformat()},
                       headers=auth("student")),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(409, "hold_lapsed")] * 3


async def test_a_request_holds_48_hours_the_tutor_is_reminded_and_approval_starts_payment(
    api, auth, book, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    booked_at = clock.now()
    ignored = await book("student", kind="trial", minutes=30, hours_ahead=72)
    answered = await book("student", kind="trial", minutes=30, hours_ahead=96)
    assert datetime.fromisoformat(ignored["hold_expires_at"]) == booked_at + timedelta(hours=48)
    clock.advance(timedelta(hours=35))
    approved = await api.post(f"/api/sessions/{answered['id']}/approve", headers=auth("tutor"))
    assert datetime.fromisoformat(approved.json()["hold_expires_at"]) == \
        clock.now() + timedelta(minutes=30)  # the payer's window opens with the approval
    await worker.drain()
    assert "approval_reminder" not in await _kinds(rt, "tutor")  # not yet: 13 h left
    clock.advance(timedelta(hours=1, seconds=1))
    await worker.drain()
    await worker.drain()  # later runs remind nobody twice
    assert (await _kinds(rt, "tutor")).count("approval_reminder") == 1
    assert "approval_reminder" not in await _kinds(rt, "student")
    clock.set(booked_at + timedelta(hours=48))
    await worker.drain()
    assert (await _session(api, auth, ignored))["status"] == "expired"
    for who in ("student", "tutor"):  # the tutor was the one awaited: both hear
        assert "request_lapsed" in await _kinds(rt, who)


async def test_a_booker_holds_at_most_three_unpaid_bookings(
    api, auth, book, pay, checkout, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    held = [await book("student", hours_ahead=24 * (d + 1)) for d in range(3)]
    refused = await book("student", hours_ahead=24 * 5, expect=409)
    assert refused["code"] == "too_many_unpaid_bookings"
    assert "pay for or cancel one" in refused["message"]
    assert await _count(rt, TutoringSession) == 3  # the refusal changed nothing
    await book("parent", student_id=str(demo_user("child").id), hours_ahead=24 * 5)  # per booker
    await checkout(await pay(held[0]))
    await worker.drain()
    await book("student", hours_ahead=24 * 6)  # paying one frees a place
    await book("student", hours_ahead=24 * 7, expect=409)
    await api.post(f"/api/sessions/{held[1]['id']}/cancel", json={}, headers=auth("student"))
    await book("student", hours_ahead=24 * 7)  # so does cancelling one
    clock.advance(LAPSE)
    await book("student", hours_ahead=24 * 8)  # and lapsed ones stop counting, swept or not


async def test_booking_attempts_are_rate_limited_per_booker_even_when_they_fail(
    api, auth, book, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(20):  # all refused for another reason, all counted
        await book("student", subject="Astrology", expect=422)
    limited = await api.post("/api/sessions", json={
        "tutor_id": str(demo_user("tutor").id), "subject": "Physics", "minutes": 60,
        "starts_at": (clock.now() + timedelta(days=1)).isoformat()}, headers=auth("student"))
    assert limited.status_code == 429
    assert limited.json()["code"] == "too_many_booking_attempts"
    assert limited.headers["Retry-After"] == "180"
    await book("parent", student_id=str(demo_user("child").id))  # others are not held back
    async with rt.sessions() as db:  # the state is in Postgres, shared by every process
        keys = set(await db.scalars(text("SELECT key FROM prepskul.rate_limits")))
    assert f"book:{demo_user('student').id}" in keys
    clock.advance(timedelta(minutes=3))
    await book("student", hours_ahead=30)  # one attempt back every three minutes


async def test_money_after_a_lapse_books_the_session_when_its_time_is_still_free(
    api, auth, book, pay, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    sandbox.fapshi.hold_webhooks = True  # the webhook is lost: the sweep comes first
    clock.advance(LAPSE)
    assert (await api.post(f"{payment['link']}/pay")).status_code == 303  # page still open
    await worker.drain()  # sweep: expired; its expire_payment job finds the link paid
    seen = await _session(api, auth, session)
    assert (seen["status"], seen["meet_state"], seen["hold_expires_at"]) == (
        "scheduled", "ready", None)
    assert seen["payment"]["flag"] is None
    assert await _kinds(rt, "student") == ["booked", "hold_lapsed", "paid", "meet_ready"]
    assert await _count(rt, TimeHold, TimeHold.expires_at.is_(None)) == 1


async def test_money_for_a_lapsed_hold_not_yet_swept_books_the_session(
    api, auth, book, pay, sandbox, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    sandbox.fapshi.hold_webhooks = True
    clock.advance(LAPSE)
    assert (await api.post(f"{payment['link']}/pay")).status_code == 303
    outcome = await payments.check_with_fapshi(rt, payment["trans_id"])  # before any sweep
    assert outcome == "successful: session paid"
    assert (await _session(api, auth, session))["hold_expires_at"] is None


async def test_a_burst_of_bookings_from_many_people_never_starves_the_database_pool(
    api, clock
) -> None:  # type: ignore[no-untyped-def]
    """Counting an attempt commits on its own while the request's transaction is open: on
    the main pool, more bookings at once than its connections would each hold one and wait
    for a second (the pool timed out after 30 s); it has a small pool of its own."""
    people = 45  # over twice the main pool's 10 + 10 connections
    tokens = [mint_token(JWT_SECRET, uuid.uuid4(), role=Role.STUDENT) for _ in range(people)]
    first = (clock.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)

    async def one(n: int) -> int:
        answer = await api.post("/api/sessions", headers={"Authorization": f"Bearer {tokens[n]}"},
                                json={"tutor_id": str(demo_user("tutor").id),
                                      "subject": "Mathematics", "minutes": 60,
                                      "starts_at": (first + timedelta(hours=n)).isoformat()})
        return answer.status_code

    assert await asyncio.gather(*(one(n) for n in range(people))) == [201] * people


async def _lapse_then_pay(api: Any, book: Any, pay: Any, clock: Any
                          ) -> tuple[dict[str, Any], dict[str, Any]]:
    session = await book("student")
    payment = await pay(session)
    clock.advance(LAPSE)
    await book("parent", student_id=str(demo_user("child").id))  # takes the freed time
    # The payer was still on the checkout page: the money arrives before the link closes.
    assert (await api.post(f"{payment['link']}/pay")).status_code == 303
    return session, payment


async def test_money_after_a_lapse_is_a_refund_owed_when_the_time_was_taken(
    api, auth, book, pay, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session, payment = await _lapse_then_pay(api, book, pay, clock)
    await sandbox.fapshi.flush()
    await worker.drain()
    seen = await _session(api, auth, session)
    assert seen["status"] == "expired"
    assert (seen["payment"]["status"], seen["payment"]["flag"]) == ("SUCCESSFUL", "refund_owed")
    flagged = await api.get("/api/admin/payments/flagged", headers=auth("admin"))
    assert [p["trans_id"] for p in flagged.json()] == [payment["trans_id"]]
    assert await _count(rt, TutoringSession, TutoringSession.status == "awaiting_payment") == 1


async def test_a_session_holds_time_exactly_while_its_status_says_so(
    book, rt
) -> None:  # type: ignore[no-untyped-def]
    """The trigger that keeps `time_holds` follows every status, present and future: a new
    status must be placed on one side of `HOLDS_SLOT` and the migration's list with it."""
    session = await book("student")
    for status in Status:
        async with rt.sessions.begin() as db:
            await db.execute(update(TutoringSession).values(status=status.value))
        held = await _count(rt, TimeHold, TimeHold.session_id == session["id"])
        assert held == (1 if status in HOLDS_SLOT else 0), status


async def test_the_database_refuses_a_tentative_session_whose_hold_never_ends(
    book, rt
) -> None:  # type: ignore[no-untyped-def]
    await book("student")
    await book("student", kind="trial", minutes=30, hours_ahead=48)
    for status in (Status.AWAITING_PAYMENT, Status.REQUESTED):
        with pytest.raises(IntegrityError, match="tentative_hold_expires"):
            async with rt.sessions.begin() as db:
                await db.execute(update(TutoringSession).where(
                    TutoringSession.status == status).values(hold_expires_at=None))
