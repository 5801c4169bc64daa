"""Money out through Fapshi payouts: a tutor withdraws earnings, an operator approves, the
fake Fapshi pays; refusals, failures, lost answers and resent webhooks never pay twice or
lose a franc; owed refunds are resolved by operators and audited; the day's totals
reconcile to the ledger."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from prepskul.db.models import OperatorAction, Payout
from prepskul.services.demo import demo_user
from prepskul.services.statements import PLATFORM_ZONE
from tests.integration.money_checks import assert_ledger_sound, balance

TUTOR, STUDENT = demo_user("tutor").id, demo_user("student").id


async def _withdraw(api: Any, auth: Any, amount: int, phone: str = "670000000",
                    who: str = "tutor", expect: int = 201) -> dict[str, Any]:
    response = await api.post("/api/payouts", json={"amount_xaf": amount, "phone": phone},
                              headers=auth(who))
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def _approve(api: Any, auth: Any, payout: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/api/admin/payouts/{payout['id']}/approve", json={},
                              headers=auth("admin"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _payout(api: Any, auth: Any, payout: dict[str, Any]) -> dict[str, Any]:
    [found] = [p for p in (await api.get("/api/payouts", headers=auth("tutor"))).json()
               if p["id"] == payout["id"]]
    return found  # type: ignore[no-any-return]


def _payout_transactions(sandbox: Any) -> list[dict[str, Any]]:
    return [t for t in sandbox.fapshi.transactions.values() if t["transType"] == "Payout"]


async def test_a_tutor_withdraws_an_operator_approves_and_fapshi_pays(
    api, auth, earned, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    await earned()
    payout = await _withdraw(api, auth, 6000, phone="+237 670 00 00 00")
    assert (payout["status"], payout["phone"]) == ("requested", "670000000")
    me = (await api.get("/api/me/balance", headers=auth("tutor"))).json()
    assert (me["earnings_available_xaf"], me["payouts_reserved_xaf"]) == (2500, 6000)
    metrics = (await api.get("/metrics")).text
    assert 'prepskul_attention{what="payouts_pending"} 1.0' in metrics
    await worker.drain()
    assert _payout_transactions(sandbox) == []  # nothing leaves before an operator approves
    await _approve(api, auth, payout)
    await worker.drain()
    await sandbox.fapshi.flush()  # Fapshi's webhook for the payout arrives too
    await worker.drain()
    done = await _payout(api, auth, payout)
    assert done["status"] == "succeeded"
    [tx] = _payout_transactions(sandbox)
    assert (tx["amount"], tx["_phone"], tx["externalId"]) == (6000, "670000000",
                                                              payout["id"].replace("-", ""))
    assert sandbox.fapshi.payout_balance == 1_000_000 - 6000
    assert await balance(rt, "tutor_available", TUTOR) == 2500
    assert await balance(rt, "in_flight", payout["id"]) == 0
    async with rt.sessions() as db:
        [approval] = (await db.scalars(select(OperatorAction))).all()
    assert (approval.action, approval.actor_id) == ("approve_payout", demo_user("admin").id)
    await assert_ledger_sound(rt)


@pytest.mark.parametrize(("amount", "phone", "code"), [
    (4999, "670000000", "below_minimum"),
    (9000, "670000000", "insufficient_balance"),
    (5000, "12345", "invalid_phone"),
])
async def test_a_withdrawal_that_cannot_be_paid_is_refused_and_reserves_nothing(
    api, auth, earned, rt, amount: int, phone: str, code: str
) -> None:  # type: ignore[no-untyped-def]
    await earned()
    refused = await _withdraw(api, auth, amount, phone=phone, expect=422)
    assert refused["code"] == code
    assert await balance(rt, "tutor_available", TUTOR) == 8500


async def test_two_withdrawals_cannot_spend_the_same_earnings(api, auth, earned) -> None:  # type: ignore[no-untyped-def]
    await earned()
    await _withdraw(api, auth, 5000)
    refused = await _withdraw(api, auth, 5000, expect=422)
    assert refused["code"] == "insufficient_balance"


async def test_a_rejected_withdrawal_gives_the_amount_back(api, auth, earned, rt) -> None:  # type: ignore[no-untyped-def]
    await earned()
    payout = await _withdraw(api, auth, 5000)
    response = await api.post(f"/api/admin/payouts/{payout['id']}/reject",
                              json={"reason": "number belongs to someone else"},
                              headers=auth("admin"))
    assert response.json()["status"] == "rejected"
    assert await balance(rt, "tutor_available", TUTOR) == 8500
    again = await api.post(f"/api/admin/payouts/{payout['id']}/approve", json={},
                           headers=auth("admin"))
    assert again.status_code == 409
    await assert_ledger_sound(rt)


@pytest.mark.parametrize(("setup", "failure"), [
    (lambda fake: None, "cannot accept"),  # the number ends in 3: the operator refuses it
    (lambda fake: setattr(fake, "payout_balance", 100), "Insufficient balance"),
])
async def test_a_payout_fapshi_refuses_or_fails_returns_the_money(
    api, auth, earned, sandbox, worker, rt, setup: Any, failure: str
) -> None:  # type: ignore[no-untyped-def]
    await earned()
    setup(sandbox.fapshi)
    payout = await _withdraw(api, auth, 5000, phone="670000003")
    await _approve(api, auth, payout)
    await worker.drain()
    done = await _payout(api, auth, payout)
    assert done["status"] == "failed" and failure in done["failure"]
    assert await balance(rt, "tutor_available", TUTOR) == 8500
    metrics = (await api.get("/metrics")).text
    assert 'prepskul_attention{what="payouts_failed"} 1.0' in metrics
    await assert_ledger_sound(rt)


async def test_a_lost_answer_is_looked_up_not_paid_twice(
    api, auth, earned, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    await earned()
    sandbox.fapshi.lose_payout_answers = 1  # Fapshi pays, but its answer never reaches us
    payout = await _withdraw(api, auth, 5000)
    await _approve(api, auth, payout)
    await worker.drain()
    clock.advance(timedelta(minutes=5))  # the job's retry
    await worker.drain()
    assert len(_payout_transactions(sandbox)) == 1
    assert (await _payout(api, auth, payout))["status"] == "succeeded"
    assert sandbox.fapshi.payout_balance == 1_000_000 - 5000
    await assert_ledger_sound(rt)


async def test_resent_and_reordered_payout_webhooks_change_nothing_twice(
    api, auth, earned, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    await earned()
    sandbox.fapshi.hold_payouts = True
    sandbox.fapshi.hold_webhooks = True
    payout = await _withdraw(api, auth, 5000)
    await _approve(api, auth, payout)
    await worker.drain()
    assert (await _payout(api, auth, payout))["status"] == "sent"
    sandbox.fapshi.settle()  # Fapshi pays; its webhook is held
    [body] = sandbox.fapshi.held
    assert (body["transType"], body["status"]) == ("Payout", "SUCCESSFUL")
    # Delivered, then the same delivery again, then a contradicting late one.
    sandbox.fapshi.held += [body, {**body, "status": "FAILED"}]
    sandbox.fapshi.release_held()
    await sandbox.fapshi.flush()
    await worker.drain()
    assert (await _payout(api, auth, payout))["status"] == "succeeded"
    assert await balance(rt, "tutor_available", TUTOR) == 3500
    await assert_ledger_sound(rt)


async def test_a_payout_whose_webhook_is_lost_is_confirmed_by_reconciliation(
    api, auth, earned, sandbox, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    await earned()
    sandbox.fapshi.hold_payouts = True
    sandbox.fapshi.drop_webhooks = 10
    payout = await _withdraw(api, auth, 5000)
    await _approve(api, auth, payout)
    await worker.drain()
    sandbox.fapshi.hold_payouts = False
    clock.advance(timedelta(minutes=1))
    await worker.drain()
    assert (await _payout(api, auth, payout))["status"] == "succeeded"


async def test_an_owed_refund_is_resolved_once_to_credit_and_audited(
    api, auth, paid_after_cancellation, rt
) -> None:  # type: ignore[no-untyped-def]
    await paid_after_cancellation()
    [owed] = (await api.get("/api/admin/refunds", headers=auth("admin"))).json()
    assert (owed["owed_xaf"], owed["payer_id"]) == (5000, str(STUDENT))
    url = f"/api/admin/refunds/{owed['payment_id']}"
    no_reason = await api.post(url, json={"action": "waive", "reason": ""},
                               headers=auth("admin"))
    assert no_reason.status_code == 422
    done = await api.post(url, json={"action": "credit", "reason": "family asked"},
                          headers=auth("admin"))
    assert done.status_code == 204, done.text
    twice = await api.post(url, json={"action": "credit", "reason": "clicked again"},
                           headers=auth("admin"))
    assert (twice.status_code, twice.json()["code"]) == (409, "nothing_owed")
    assert await balance(rt, "credit", STUDENT) == 5000
    assert (await api.get("/api/admin/refunds", headers=auth("admin"))).json() == []
    log = (await api.get("/api/admin/money/audit", headers=auth("admin"))).json()
    assert [(a["action"], a["reason"]) for a in log] == [("refund_credit", "family asked")]
    await assert_ledger_sound(rt)


async def test_an_owed_refund_can_go_out_to_the_payers_phone(
    api, auth, paid_after_cancellation, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    row = await paid_after_cancellation()
    done = await api.post(f"/api/admin/refunds/{row.id}",
                          json={"action": "payout", "reason": "asked for MoMo",
                                "phone": "699000000"}, headers=auth("admin"))
    assert done.status_code == 204, done.text
    await worker.drain()
    async with rt.sessions() as db:
        out = (await db.scalars(select(Payout))).one()
    assert (out.status, out.purpose, out.beneficiary_id) == ("succeeded", "refund", STUDENT)
    assert await balance(rt, "refund_owed", row.id) == 0
    await assert_ledger_sound(rt)


async def test_a_payer_can_withdraw_credit_to_mobile_money(
    api, auth, paid_session, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=48)
    await api.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=auth("student"))
    payout = await _withdraw(api, auth, 5000, who="student")
    assert payout["purpose"] == "refund"
    await _approve(api, auth, payout)
    await worker.drain()
    assert await balance(rt, "credit", STUDENT) == 0
    await assert_ledger_sound(rt)


async def test_the_days_totals_reconcile_to_the_ledger(
    api, auth, earned, paid_session, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    clock.set(clock.now().astimezone(PLATFORM_ZONE).replace(hour=1, minute=0))
    await earned()  # 10,000 collected; 8,500 to the tutor, 1,500 revenue (the day after)
    early = await paid_session(hours_ahead=48)
    await api.post(f"/api/sessions/{early['id']}/cancel", json={}, headers=auth("student"))
    payout = await _withdraw(api, auth, 5000)
    await _approve(api, auth, payout)
    await worker.drain()
    day = clock.now().astimezone(PLATFORM_ZONE).date()
    before = (clock.now() - timedelta(days=1)).astimezone(PLATFORM_ZONE).date()
    totals = {}
    for d in (before, day):
        response = await api.get(f"/api/admin/money/daily?day={d}", headers=auth("admin"))
        assert response.status_code == 200, response.text
        totals[d] = response.json()
        assert totals[d]["reconciles"] is True
    both = {k: totals[before][k] + totals[day][k] for k in
            ("collected_xaf", "paid_out_xaf", "refunded_to_credit_xaf",
             "platform_revenue_xaf", "tutor_earned_xaf")}
    assert both == {"collected_xaf": 15_000, "paid_out_xaf": 5000,
                    "refunded_to_credit_xaf": 5000, "platform_revenue_xaf": 1500,
                    "tutor_earned_xaf": 8500}
    assert -(await balance(rt, "outside")) == 15_000 - 5000
    refused = await api.get(f"/api/admin/money/daily?day={day}", headers=auth("tutor"))
    assert refused.status_code == 403


async def test_a_tutors_monthly_statement_lists_every_movement(
    api, auth, earned, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await earned()
    payout = await _withdraw(api, auth, 5000)
    await _approve(api, auth, payout)
    await worker.drain()
    month = clock.now().astimezone(PLATFORM_ZONE).strftime("%Y-%m")
    previous = (clock.now().astimezone(PLATFORM_ZONE).replace(day=1) - timedelta(days=1))
    lines = []
    for m in (previous.strftime("%Y-%m"), month):
        response = await api.get(f"/api/me/statement.csv?month={m}", headers=auth("tutor"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines += response.text.strip().splitlines()[1:]
    kinds = [line.split(",")[1] for line in lines]
    assert kinds == ["settle_completed", "release", "release", "payout_reserved"]
    assert session["id"] in lines[0]
    assert lines[-1].split(",")[5:7] == ["0", "3500"]
    bad = await api.get("/api/me/statement.csv?month=11-2026", headers=auth("tutor"))
    assert bad.status_code == 422


MONEY = ("balance.changed", "payout.")


def _money(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].startswith(MONEY)]


async def test_money_reaches_the_live_streams_of_those_it_concerns_and_no_one_else(
    api, auth, earned, paid_session, worker, sandbox, events
) -> None:  # type: ignore[no-untyped-def]
    async with events("tutor") as tutor, events("student") as student, \
            events("parent") as parent, events("admin") as ops:
        await earned()  # the tutor's share: pending, then available
        pending = await tutor.until("balance.changed")
        assert (pending["data"]["change_xaf"], pending["data"]["balance_xaf"]) == (
            {"tutor_pending": 8500}, {"tutor_pending": 8500})
        released = await tutor.until("balance.changed")
        assert released["data"]["balance_xaf"]["tutor_available"] == 8500
        payout = await _approve(api, auth, await _withdraw(api, auth, 6000))
        await worker.drain()
        await sandbox.fapshi.flush()
        await worker.drain()
        paid_out = await tutor.until("payout.succeeded")
        assert (paid_out["data"]["payout_id"], paid_out["data"]["amount_xaf"]) == (
            payout["id"], 6000)
        assert (await ops.until("payout.succeeded"))["data"] == paid_out["data"]

        session = await paid_session(hours_ahead=72)  # cancelled early: refunded to credit
        await api.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=auth("student"))
        refund = await student.until("balance.changed")
        assert (refund["data"]["session_id"], refund["data"]["change_xaf"]) == (
            session["id"], {"credit": 5000})
        await asyncio.sleep(0.3)
        mine = _money(tutor.drained())
        assert all(e["data"].get("session_id") != session["id"] for e in mine)
        assert [e["data"]["reason"] for e in _money(student.drained())
                if e["type"] == "balance.changed"] == []  # the refund above was the only one
        assert _money(parent.drained()) == []  # the parent pays for none of this
