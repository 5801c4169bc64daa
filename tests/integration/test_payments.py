"""Payments with Fapshi: no lost and no forged payment, one meeting per paid session."""

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from prepskul.db.models import Job, Payment, TutoringSession, WebhookEvent
from tests.conftest import FAPSHI_SECRET


async def _session(api: httpx.AsyncClient, auth: Any, session: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get(f"/api/sessions/{session['id']}",
                                          headers=auth("student"))).json()
    return body


async def _count(rt: Any, model: Any, *where: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_paying_on_the_checkout_page_makes_the_session_paid(
    api, auth, book, pay, checkout, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", minutes=90)
    payment = await pay(session)
    assert payment["amount_xaf"] == 7500 and payment["status"] == "CREATED"
    assert payment["link"].startswith(rt.settings.public_base_url)
    await checkout(payment, "pay")
    await worker.drain()
    seen = await _session(api, auth, session)
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")  # the Meet job ran
    assert seen["payment"]["status"] == "SUCCESSFUL"
    assert await _count(rt, Job, Job.kind == "create_meeting") == 1


async def test_a_second_attempt_while_one_is_open_returns_it(book, pay, sandbox) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    first, second = await pay(session), await pay(session)
    assert first["trans_id"] == second["trans_id"]
    assert len(sandbox.fapshi.transactions) == 1


async def test_the_client_cannot_choose_the_amount(book, pay) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    refused = await pay(session, expect=422, method="link", amount=100)
    assert "amount" in refused["message"]


async def test_only_an_awaiting_payment_session_can_be_paid(book, pay) -> None:  # type: ignore[no-untyped-def]
    trial = await book("student", kind="trial", minutes=30)
    refused = await pay(trial, expect=409)
    assert refused["code"] == "not_awaiting_payment"


async def test_a_phone_prompt_normalises_the_number_and_fails_clearly(
    api, auth, book, pay, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    bad = await pay(session, expect=422, method="direct", phone="12345")
    assert bad["code"] == "invalid_phone"
    payment = await pay(session, method="direct", phone="+237 670 000 001")  # ends in 1: fails
    assert sandbox.fapshi.transactions[payment["trans_id"]]["_phone"] == "670000001"
    sandbox.fapshi.settle()
    await sandbox.fapshi.flush()
    await worker.drain()
    assert (await _session(api, auth, session))["status"] == "awaiting_payment"
    retry = await pay(session, method="direct", phone="670000000")
    assert retry["trans_id"] != payment["trans_id"]  # the failed prompt is closed; a new one
    sandbox.fapshi.settle()
    await sandbox.fapshi.flush()
    await worker.drain()
    seen = await _session(api, auth, session)
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")  # the Meet job ran


async def test_a_forged_webhook_for_an_unknown_transaction_changes_nothing(
    api, auth, book, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    forged = {"transId": "FORGED123", "status": "SUCCESSFUL", "amount": 3500,
              "externalId": session["id"].replace("-", "")}
    response = await api.post("/api/webhooks/fapshi", json=forged,
                              headers={"x-wh-secret": FAPSHI_SECRET})
    assert response.status_code == 200
    await worker.drain()
    assert (await _session(api, auth, session))["status"] == "awaiting_payment"
    assert await _count(rt, Job, Job.kind == "create_meeting") == 0
    async with rt.sessions() as db:
        event = (await db.scalars(select(WebhookEvent))).one()
    assert event.state == "processed" and "not know" in (event.error or "")


async def test_a_forged_success_for_a_real_unpaid_transaction_changes_nothing(
    api, auth, book, pay, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    forged = {"transId": payment["trans_id"], "status": "SUCCESSFUL", "amount": 3500}
    await api.post("/api/webhooks/fapshi", json=forged, headers={"x-wh-secret": FAPSHI_SECRET})
    await worker.drain()
    seen = await _session(api, auth, session)
    assert (seen["status"], seen["payment"]["status"]) == ("awaiting_payment", "CREATED")


async def test_a_webhook_with_a_wrong_secret_is_refused_and_kept_as_evidence(
    api, book, pay, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    body = {"transId": payment["trans_id"], "status": "SUCCESSFUL"}
    for headers in ({}, {"x-wh-secret": "guess"}):
        response = await api.post("/api/webhooks/fapshi", json=body, headers=headers)
        assert response.status_code == 401
    async with rt.sessions() as db:
        events = (await db.scalars(select(WebhookEvent))).all()
    assert [(e.state, e.verified) for e in events] == [("rejected", False)] * 2
    assert all("x-wh-secret" not in e.headers for e in events)
    assert await _count(rt, Job, Job.kind == "process_fapshi_webhook") == 0
    malformed = await api.post("/api/webhooks/fapshi", content=b"{not json",
                               headers={"x-wh-secret": FAPSHI_SECRET})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "invalid_webhook")


async def test_a_dropped_webhook_is_recovered_by_reconciliation(
    api, auth, book, pay, checkout, sandbox, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    sandbox.fapshi.drop_webhooks = 1
    await checkout(payment, "pay")
    await worker.drain()
    assert (await _session(api, auth, session))["status"] == "awaiting_payment"
    clock.advance(timedelta(minutes=1, seconds=1))  # the first check is due
    await worker.drain()
    seen = await _session(api, auth, session)
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")  # the Meet job ran


async def test_duplicated_and_reordered_webhooks_act_once_and_end_paid(
    api, auth, book, pay, checkout, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    sandbox.fapshi.hold_webhooks = True
    await checkout(payment, "fail")  # FAILED, then the link is paid after all
    await checkout(payment, "pay")
    sandbox.fapshi.hold_webhooks = False
    sandbox.fapshi.duplicate_webhooks = 2
    sandbox.fapshi.release_held(reverse=True)  # SUCCESSFUL arrives before FAILED, twice each
    await sandbox.fapshi.flush()
    await worker.drain()
    seen = await _session(api, auth, session)
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")  # the Meet job ran
    assert seen["payment"]["status"] == "SUCCESSFUL"
    assert await _count(rt, Job, Job.kind == "create_meeting") == 1
    assert await _count(rt, WebhookEvent) == 2  # one per status; the copies were no-ops


async def test_money_after_cancellation_is_a_refund_owed_not_a_resurrection(
    api, auth, book, pay, checkout, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    await api.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=auth("student"))
    await checkout(payment, "pay")  # the family paid on the page they still had open
    await worker.drain()
    assert (await _session(api, auth, session))["status"] == "cancelled"
    async with rt.sessions() as db:
        flagged = (await db.scalars(select(Payment))).one()
    assert (flagged.status, flagged.flag) == ("SUCCESSFUL", "refund_owed")
    console = await api.get("/api/admin/payments/flagged", headers=auth("admin"))
    assert [(p["trans_id"], p["flag"]) for p in console.json()] == [
        (payment["trans_id"], "refund_owed")]
    assert (await api.get("/api/admin/payments/flagged", headers=auth("student"))).status_code \
        == 403
    assert await _count(rt, Job, Job.kind == "create_meeting") == 0
    assert await _count(rt, Job, Job.status == "dead") == 0


async def test_cancelling_expires_the_open_link_at_fapshi(
    api, auth, book, pay, sandbox, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    payment = await pay(session)
    await api.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=auth("student"))
    await worker.drain()
    assert sandbox.fapshi.transactions[payment["trans_id"]]["status"] == "EXPIRED"


async def test_an_unpaid_link_expires_after_a_day_and_closes_a_session_too_late_to_pay(
    api, auth, book, pay, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", hours_ahead=25)
    await pay(session)
    clock.advance(timedelta(hours=24, minutes=1))
    await worker.drain()
    await sandbox.fapshi.flush()
    await worker.drain()
    assert (await _session(api, auth, session))["status"] == "expired"
    async with rt.sessions() as db:
        assert (await db.scalars(select(TutoringSession))).one().status == "expired"
