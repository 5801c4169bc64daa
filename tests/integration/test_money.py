"""Money after a payment: the cancellation policy settles to credit and earnings, credit
pays the next booking, completed lessons earn the tutor's share after the hold — and the
database itself refuses a ledger that does not add up."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from prepskul.db.models import Earning
from prepskul.services.demo import demo_user
from tests.integration.money_checks import assert_ledger_sound, balance

STUDENT, TUTOR = demo_user("student").id, demo_user("tutor").id


async def _cancel(api: Any, auth: Any, session: dict[str, Any], who: str) -> dict[str, Any]:
    quote = await api.get(f"/api/sessions/{session['id']}/cancellation", headers=auth(who))
    assert quote.status_code == 200, quote.text
    done = await api.post(f"/api/sessions/{session['id']}/cancel", json={"reason": "x"},
                          headers=auth(who))
    assert done.status_code == 200, done.text
    body: dict[str, Any] = quote.json()
    return body


async def test_a_late_cancellation_is_quoted_then_split_as_quoted(
    api, auth, paid_session, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=30)  # 5,000 XAF
    clock.advance(timedelta(hours=20))  # 10 h before the start: late
    quote = await _cancel(api, auth, session, "student")
    assert (quote["held_xaf"], quote["refund_xaf"], quote["tutor_xaf"],
            quote["platform_xaf"]) == (5000, 2500, 2125, 375)
    assert "late" in quote["reason"]
    assert await balance(rt, "credit", STUDENT) == 2500
    assert await balance(rt, "tutor_pending", TUTOR) == 2125
    assert await balance(rt, "revenue") == 375
    assert await balance(rt, "clearing", session["id"]) == 0
    await assert_ledger_sound(rt)


async def test_an_early_cancellation_refunds_everything_to_credit(
    api, auth, paid_session, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=48)
    quote = await _cancel(api, auth, session, "student")
    assert (quote["refund_xaf"], quote["tutor_xaf"]) == (5000, 0)
    assert await balance(rt, "credit", STUDENT) == 5000
    me = (await api.get("/api/me/balance", headers=auth("student"))).json()
    assert me["credit_xaf"] == 5000


async def test_a_tutor_cancellation_refunds_to_credit_which_pays_the_next_booking(
    api, auth, paid_session, book, pay, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    first = await paid_session(hours_ahead=5)
    quote = await _cancel(api, auth, first, "tutor")
    assert quote["refund_xaf"] == 5000 and "tutor" in quote["reason"]
    price = await api.get(f"/api/tutors/{TUTOR}/quote?minutes=60", headers=auth("student"))
    assert price.json() == {"price_xaf": 5000, "sibling_discount_xaf": 0, "credit_xaf": 5000,
                            "to_pay_xaf": 0, "currency": "XAF"}
    transactions = len(sandbox.fapshi.transactions)
    second = await book("student", hours_ahead=30)
    payment = await pay(second)
    assert (payment["method"], payment["status"]) == ("credit", "SUCCESSFUL")
    assert len(sandbox.fapshi.transactions) == transactions  # Fapshi never asked
    await worker.drain()
    seen = (await api.get(f"/api/sessions/{second['id']}", headers=auth("student"))).json()
    assert seen["status"] == "scheduled"
    assert await balance(rt, "credit", STUDENT) == 0
    assert await balance(rt, "clearing", second["id"]) == 5000
    await assert_ledger_sound(rt)


async def test_credit_pays_part_and_fapshi_is_asked_for_the_rest(
    api, auth, paid_session, book, pay, checkout, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    first = await paid_session(hours_ahead=30, minutes=30)  # 2,500 XAF
    await _cancel(api, auth, first, "tutor")
    second = await book("student", hours_ahead=40, minutes=90)  # 7,500 XAF
    payment = await pay(second)
    assert payment["amount_xaf"] == 5000
    await checkout(payment)
    await worker.drain()
    assert await balance(rt, "clearing", second["id"]) == 7500
    assert await balance(rt, "credit", STUDENT) == 0
    await assert_ledger_sound(rt)


async def test_credit_set_aside_for_an_unpaid_session_comes_back_when_it_is_cancelled(
    api, auth, paid_session, book, pay, rt
) -> None:  # type: ignore[no-untyped-def]
    first = await paid_session(hours_ahead=30, minutes=30)
    await _cancel(api, auth, first, "tutor")
    second = await book("student", hours_ahead=40, minutes=90)
    await pay(second)  # 2,500 from credit, 5,000 asked of Fapshi, never paid
    quote = await _cancel(api, auth, second, "student")
    assert (quote["held_xaf"], quote["refund_xaf"]) == (2500, 2500)
    assert await balance(rt, "credit", STUDENT) == 2500
    await assert_ledger_sound(rt)


async def test_a_completed_lesson_earns_the_tutor_85_percent_after_the_hold(
    api, auth, paid_session, lesson, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    await lesson(session)
    assert await balance(rt, "tutor_pending", TUTOR) == 4250
    assert await balance(rt, "revenue") == 750
    clock.advance(timedelta(hours=23))
    await worker.drain()
    assert await balance(rt, "tutor_available", TUTOR) == 0
    clock.advance(timedelta(hours=1, minutes=1))
    await worker.drain()
    me = (await api.get("/api/me/balance", headers=auth("tutor"))).json()
    assert (me["earnings_pending_xaf"], me["earnings_available_xaf"]) == (0, 4250)
    await assert_ledger_sound(rt)


async def test_held_earnings_are_not_released(
    api, auth, paid_session, lesson, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    await lesson(session)
    held = await api.post(f"/api/admin/earnings/{session['id']}/hold",
                          json={"reason": "the family disputes the lesson"},
                          headers=auth("admin"))
    assert held.status_code == 200, held.text
    clock.advance(timedelta(days=3))
    await worker.drain()
    assert await balance(rt, "tutor_available", TUTOR) == 0
    freed = await api.post(f"/api/admin/earnings/{session['id']}/release",
                           json={"reason": "reviewed the recording"}, headers=auth("admin"))
    assert freed.status_code == 200, freed.text
    await worker.drain()
    assert await balance(rt, "tutor_available", TUTOR) == 4250
    async with rt.sessions() as db:
        earning = (await db.scalars(select(Earning))).one()
    assert earning.released_at is not None


async def test_money_paid_after_cancellation_is_owed_back_not_lost(
    paid_after_cancellation, rt
) -> None:  # type: ignore[no-untyped-def]
    row = await paid_after_cancellation()
    assert row.flag == "refund_owed"
    assert await balance(rt, "refund_owed", row.id) == 5000
    await assert_ledger_sound(rt)


async def test_a_cancellation_quote_for_a_session_that_cannot_be_cancelled_is_refused(
    api, auth, paid_session, lesson
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    await lesson(session)
    refused = await api.get(f"/api/sessions/{session['id']}/cancellation",
                            headers=auth("student"))
    assert refused.status_code == 409 and refused.json()["code"] == "cannot_cancel"


# --- the database's own guards --------------------------------------------------------

async def _raw(rt: Any, *statements: str) -> None:
    async with rt.sessions.begin() as db:
        for statement in statements:
            await db.execute(text(statement))


ACCOUNTS = ("INSERT INTO prepskul.ledger_accounts (id, kind, owner_id, may_go_negative) VALUES"
            " (901, 'outside', NULL, true), (902, 'revenue', NULL, false)")
TXN = ("INSERT INTO prepskul.ledger_transactions (id, key, kind, memo, created_at)"
       " VALUES (77, 'k', 'test', '', now())")


async def test_the_database_refuses_an_unbalanced_transaction_at_commit(rt) -> None:  # type: ignore[no-untyped-def]
    await _raw(rt, ACCOUNTS)
    with pytest.raises(DBAPIError, match="does not balance"):
        await _raw(rt, TXN, "INSERT INTO prepskul.ledger_entries (transaction_id, account_id,"
                   " amount_xaf) VALUES (77, 901, -100), (77, 902, 99)")
    assert await balance(rt, "revenue") == 0


async def test_the_database_refuses_a_balance_below_zero(rt) -> None:  # type: ignore[no-untyped-def]
    await _raw(rt, ACCOUNTS)
    with pytest.raises(DBAPIError, match="never_below_zero"):
        await _raw(rt, TXN, "INSERT INTO prepskul.ledger_entries (transaction_id, account_id,"
                   " amount_xaf) VALUES (77, 902, -100), (77, 901, 100)")


@pytest.mark.parametrize("statement", [
    "UPDATE prepskul.ledger_entries SET amount_xaf = 5",
    "DELETE FROM prepskul.ledger_entries",
    "DELETE FROM prepskul.ledger_transactions",
    "UPDATE prepskul.ledger_accounts SET balance_xaf = balance_xaf + 1000",
])
async def test_the_ledger_is_append_only_and_balances_move_only_through_entries(
    rt, statement: str
) -> None:  # type: ignore[no-untyped-def]
    await _raw(rt, ACCOUNTS, TXN, "INSERT INTO prepskul.ledger_entries (transaction_id,"
               " account_id, amount_xaf) VALUES (77, 901, -100), (77, 902, 100)")
    with pytest.raises(DBAPIError):
        await _raw(rt, statement)
    assert await balance(rt, "revenue") == 100
