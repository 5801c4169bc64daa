"""A plan's invoice under stress: paid twice, paid after it was void, the worker killed
while the period's events are made, a daylight-saving change during the period. No lesson
missing, none doubled, money flagged where it must be."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from prepskul.db.models import Job, Payment, Profile, TutoringSession
from prepskul.domain.ledger import Account, AccountKind
from prepskul.services import ledger
from prepskul.services.demo import demo_user
from tests.integration.money_checks import assert_ledger_sound, balance
from tests.integration.test_plans import act, pay_invoice, plan_sessions, propose, read
from tests.reliability.test_worker_killed import kill_when_running, start_worker, survive


async def approved(api: Any, auth: Any, clock: Any, **extra: Any) -> dict[str, Any]:
    plan = await propose(api, auth, clock, **extra)
    return await act(api, auth, plan, "approve", "tutor")


async def plan_session_rows(rt: Any) -> list[TutoringSession]:
    async with rt.sessions() as db:
        return list((await db.scalars(select(TutoringSession).where(
            TutoringSession.plan_id.is_not(None)).order_by(TutoringSession.starts_at))).all())


async def owed_back(rt: Any, payment_trans_id: str) -> tuple[Payment, int]:
    async with rt.sessions() as db:
        payment = (await db.scalars(select(Payment).where(
            Payment.trans_id == payment_trans_id))).one()
        return payment, await ledger.balance(db, Account(AccountKind.REFUND_OWED, payment.id))


async def test_an_invoice_paid_by_two_transactions_books_once_and_flags_the_second(
    api, auth, clock, checkout, worker, rt,
) -> None:  # type: ignore[no-untyped-def]
    plan = await approved(api, auth, clock)
    [invoice] = plan["invoices"]
    first = await pay_invoice(api, auth, invoice)
    await checkout(first, "fail")  # a failed link can still be paid later
    await worker.drain()
    second = await pay_invoice(api, auth, invoice)
    assert second["trans_id"] != first["trans_id"]
    await checkout(second)
    await worker.drain()
    await checkout(first)  # the payer tries the first page again, and it goes through
    await worker.drain()
    sessions = await plan_session_rows(rt)
    assert len(sessions) == 8 and len({s.starts_at for s in sessions}) == 8
    payment, owed = await owed_back(rt, first["trans_id"])
    assert (payment.flag, owed) == ("refund_owed", invoice["total_xaf"])
    flagged = (await api.get("/api/admin/payments/flagged", headers=auth("admin"))).json()
    assert [p["trans_id"] for p in flagged] == [first["trans_id"]]
    assert (await read(api, auth, plan))["status"] == "active"
    await assert_ledger_sound(rt)


async def test_money_for_a_void_invoice_is_flagged_and_books_nothing(
    api, auth, clock, checkout, worker, rt, sandbox,
) -> None:  # type: ignore[no-untyped-def]
    plan = await approved(api, auth, clock)
    [invoice] = plan["invoices"]
    payment = await pay_invoice(api, auth, invoice)
    ended = await act(api, auth, plan, "end", "parent")
    assert ended["status"] == "ended" and ended["invoices"][0]["status"] == "void"
    await checkout(payment)  # paid on the page before its link was expired at Fapshi
    await worker.drain()
    assert await plan_session_rows(rt) == []
    row, owed = await owed_back(rt, payment["trans_id"])
    assert (row.flag, owed) == ("refund_owed", invoice["total_xaf"])
    refused = await api.post(f"/api/invoices/{invoice['id']}/payments",
                             json={"method": "link"}, headers=auth("parent"))
    assert refused.status_code == 409 and refused.json()["code"] == "invoice_not_payable"
    await assert_ledger_sound(rt)


async def test_an_amount_other_than_the_invoices_is_flagged(
    api, auth, clock, checkout, worker, rt, sandbox,
) -> None:  # type: ignore[no-untyped-def]
    plan = await approved(api, auth, clock)
    [invoice] = plan["invoices"]
    payment = await pay_invoice(api, auth, invoice)
    sandbox.fapshi.transactions[payment["trans_id"]]["amount"] = 100  # tampered upstream
    await checkout(payment)
    await worker.drain()
    assert await plan_session_rows(rt) == []
    row, owed = await owed_back(rt, payment["trans_id"])
    assert (row.flag, owed) == ("amount_mismatch", 100)
    assert (await read(api, auth, plan))["invoices"][0]["status"] == "open"
    await assert_ledger_sound(rt)


async def test_a_worker_killed_while_making_the_periods_events_leaves_eight_not_more(
    api, auth, clock, checkout, worker, rt, sandbox, settings, database_url, tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    plan = await approved(api, auth, clock)
    payment = await pay_invoice(api, auth, plan["invoices"][0])
    await checkout(payment)
    sandbox.calendar.controls.latency = 2  # Google is slow; the dead worker's events exist
    proc = await start_worker(settings, database_url, tmp_path)
    await kill_when_running(proc, rt, "create_meeting")
    sandbox.calendar.controls.latency = 0
    await survive(rt, clock, worker)
    sessions = await plan_sessions(api, auth)
    assert len(sessions) == 8
    assert all(s["status"] == "scheduled" and s["meet_link"] for s in sessions)
    assert len(sandbox.calendar.events) == 8  # each redone job found its own event
    async with rt.sessions() as db:
        jobs = await db.scalar(select(func.count()).select_from(Job).where(
            Job.kind == "create_meeting"))
    assert jobs == 8


async def test_a_dst_change_in_the_payers_zone_during_the_period(
    api, auth, clock, checkout, worker, rt,
) -> None:  # type: ignore[no-untyped-def]
    # Paris moves to summer time on 28 March 2027, in the middle of the first period.
    clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    async with rt.sessions.begin() as db:
        await db.execute(update(Profile).where(Profile.id == demo_user("parent").id)
                         .values(time_zone="Europe/Paris"))
        await db.execute(update(Profile).where(Profile.id == demo_user("tutor").id)
                         .values(time_zone="Europe/Paris"))
    plan = await approved(api, auth, clock, starts_on="2027-03-15")
    [invoice] = plan["invoices"]
    # Due at midnight in Paris (still winter: 23:00 UTC the day before).
    assert datetime.fromisoformat(invoice["due_at"]) == datetime(2027, 3, 14, 23, 0,
                                                                 tzinfo=UTC)
    await checkout(await pay_invoice(api, auth, invoice))
    await worker.drain()
    sessions = await plan_sessions(api, auth)
    assert len(sessions) == 8
    starts = [datetime.fromisoformat(s["starts_at"]) for s in sessions]
    assert len(set(starts)) == 8
    paris = ZoneInfo("Europe/Paris")
    assert {s.astimezone(paris).strftime("%H:%M") for s in starts} == {"17:00"}
    assert {s.astimezone(UTC).hour for s in starts} == {16, 15}  # the wall clock held
    assert all(datetime.fromisoformat(s["ends_at"]) - datetime.fromisoformat(s["starts_at"])
               == timedelta(hours=1) for s in sessions)
    assert all(s["meet_link"] for s in sessions)


async def test_an_invoice_paid_late_books_the_lessons_ahead_and_credits_the_rest(
    api, auth, clock, worker, rt, sandbox,
) -> None:  # type: ignore[no-untyped-def]
    plan = await approved(api, auth, clock)
    [invoice] = plan["invoices"]
    await pay_invoice(api, auth, invoice, method="direct", phone="670000000")
    third = datetime.fromisoformat(invoice["lessons"][2][0])
    clock.set(third - timedelta(minutes=30))  # the prompt is answered after two lessons
    sandbox.fapshi.settle()
    await sandbox.fapshi.flush()
    await worker.drain()
    sessions = await plan_session_rows(rt)
    assert [s.starts_at for s in sessions] == [
        datetime.fromisoformat(x[0]) for x in invoice["lessons"][2:]]
    assert await balance(rt, "credit", plan["payer_id"]) == 2 * invoice["lesson_price_xaf"]
    await assert_ledger_sound(rt)
