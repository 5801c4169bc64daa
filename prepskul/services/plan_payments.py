"""Paying a plan's invoice with Fapshi, exactly as a session is paid: a checkout link or a
phone prompt, the invoice as `externalId`, believed only from Fapshi's payment-status
answer (`services.payments.apply_transaction` hands invoice payments here), reconciled by
the same job. Paying books the period's lessons as sessions — all of them or none, in the
transaction that records the payment — each then getting its Calendar event and Meet link
through the ordinary `create_meeting` job."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Invoice, Payment, Plan, Profile, TimeHold, TutoringSession
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from prepskul.domain.holds import HoldPurpose
from prepskul.domain.ledger import Account, AccountKind, transfer
from prepskul.domain.lifecycle import MeetState, Status
from prepskul.domain.payments import OPEN_PAYMENT, PaymentStatus, payment_method
from prepskul.domain.people import Role
from prepskul.domain.phone import normalise_phone
from prepskul.domain.plans import (
    InvoiceEvent,
    Lesson,
    PlanEvent,
    PlanStatus,
    invoice_external_id,
    invoice_transition,
    judge_invoice_payment,
    payable_lessons,
    plan_transition,
)
from prepskul.domain.pricing import FAPSHI_MINIMUM_XAF, Kind
from prepskul.providers.fapshi.models import Transaction
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import checkout, feed, ledger, money, plan_calendar, plans
from prepskul.services.holds import EXCLUSION_VIOLATION
from prepskul.services.links import page_url


def invoice_clearing(invoice_id: uuid.UUID) -> Account:
    """Money paid for an invoice (credit and Fapshi) until its lessons are booked."""
    return Account(AccountKind.CLEARING, invoice_id)


async def invoice_for(db: AsyncSession, person: Profile, invoice_id: uuid.UUID, *,
                      lock: bool = False) -> tuple[Invoice, Plan]:
    """`lock`: the plan, then the invoice — the order ending, pausing and billing take them
    in, so a payment and an end never wait on each other."""
    invoice = (await db.scalars(select(Invoice).where(Invoice.id == invoice_id))).first()
    plan = None
    if invoice is not None:
        try:
            plan = await plans.plan_for(db, person, invoice.plan_id, lock=lock)
        except NotFound:
            plan = None
    if invoice is None or plan is None:
        raise NotFound("invoice_not_found", "There is no invoice with that id that you can see.")
    if lock:
        await db.refresh(invoice, with_for_update=True)
    return invoice, plan


async def start_payment(
    db: AsyncSession, rt: Runtime, payer: Profile, invoice_id: uuid.UUID, *,
    method: str, phone: str | None = None, medium: str | None = None,
) -> Payment:
    """Open a payment for an unpaid invoice. The invoice row stays locked through Fapshi's
    answer, so two clicks cannot open two: the second gets the first back."""
    method = payment_method(method)
    invoice, plan = await invoice_for(db, payer, invoice_id, lock=True)
    if payer.role != Role.ADMIN and payer.id != plan.payer_id:
        raise NotAllowed("not_the_payer", "Only whoever pays for the plan can pay its invoices.")
    invoice_transition(invoice.status, InvoiceEvent.PAY)  # refused unless open or overdue
    open_payment = (await db.scalars(select(Payment).where(
        Payment.invoice_id == invoice.id, Payment.status.in_(OPEN_PAYMENT)))).first()
    if open_payment is not None:
        return open_payment
    if method == "direct":
        if not phone:
            raise InvalidInput("phone_required", "Give the mobile-money number to prompt.")
        phone = normalise_phone(phone)
    due = await _apply_credit(db, rt, invoice, plan.payer_id)
    now = rt.clock.now()
    if due == 0:
        payment = Payment(invoice_id=invoice.id, trans_id=f"credit-{invoice.id.hex[:25]}",
                          method="credit", amount_xaf=invoice.total_xaf,
                          status=PaymentStatus.SUCCESSFUL, confirmed_at=now, closed_at=now)
        db.add(payment)
        await db.flush()
        if await _book(db, rt, payment, invoice, plan) is None:  # refused: nothing is kept
            raise Conflict("slot_taken", "One of the invoice's lessons was booked by someone "
                           "else while the plan was paused; change the plan's times to pay.")
        return payment
    initiated = await checkout.initiate(
        rt, payer, method=method, phone=phone, medium=medium, amount=due,
        external_id=invoice_external_id(invoice.id),
        redirect=page_url(rt.settings, f"/plans/{plan.id}"),
        note=f"PrepSkul plan: {plan.subject}, {len(invoice.lessons)} lessons")
    payment = Payment(
        invoice_id=invoice.id, trans_id=initiated.trans_id, method=method, amount_xaf=due,
        status=PaymentStatus.PENDING if method == "direct" else PaymentStatus.CREATED,
        link=initiated.link, phone=phone, medium=medium,
        next_check_at=now + timedelta(minutes=1))
    db.add(payment)
    await db.flush()
    return payment


async def _apply_credit(db: AsyncSession, rt: Runtime, invoice: Invoice,
                        payer_id: uuid.UUID) -> int:
    """Set the payer's credit aside for the invoice, leaving Fapshi at least its minimum;
    returns what Fapshi is asked for."""
    held = await ledger.balance(db, invoice_clearing(invoice.id))
    due = invoice.total_xaf - held
    available = await ledger.lock(db, money.credit(payer_id))
    take = min(available, due)
    if 0 < due - take < FAPSHI_MINIMUM_XAF:
        take = max(0, due - FAPSHI_MINIMUM_XAF)
    movement = transfer(f"credit:invoice:{invoice.id}:{held}", "credit_applied",
                        money.credit(payer_id), {invoice_clearing(invoice.id): take},
                        memo="credit pays for a plan's invoice")
    if movement:
        await ledger.post(db, movement, now=rt.clock.now(), session_id=None)
    return due - take


async def apply_transaction(db: AsyncSession, rt: Runtime, payment: Payment,
                            tx: Transaction) -> str:
    """Fapshi's answer about an invoice's transaction (its status already recorded)."""
    now = rt.clock.now()
    if tx.status is PaymentStatus.SUCCESSFUL:
        return await _on_success(db, rt, payment, tx)
    if tx.status is PaymentStatus.FAILED:
        if payment.method == "direct":
            payment.closed_at = now
        return "failed: the payer may retry"
    if tx.status is PaymentStatus.EXPIRED:
        payment.closed_at = now
        return "expired"
    return f"now {tx.status}"


async def _on_success(db: AsyncSession, rt: Runtime, payment: Payment, tx: Transaction) -> str:
    now = rt.clock.now()
    payment.confirmed_at = payment.closed_at = now
    invoice = await db.get(Invoice, payment.invoice_id)
    assert invoice is not None
    plan = await db.get(Plan, invoice.plan_id, with_for_update=True)  # the plan first
    assert plan is not None
    await db.refresh(invoice, with_for_update=True)
    verdict = judge_invoice_payment(
        invoice_status=invoice.status, expected_amount=payment.amount_xaf,
        paid_amount=tx.amount, expected_external_id=invoice_external_id(invoice.id),
        external_id=tx.external_id)
    if not verdict.confirm:
        await _owed_back(db, now, payment, tx, verdict.flag, verdict.detail)
        return f"successful but flagged {verdict.flag}: {verdict.detail}"
    await money.collect(db, now, trans_id=tx.trans_id, amount=tx.amount,
                        into=invoice_clearing(invoice.id), session_id=None)
    booked = await _book(db, rt, payment, invoice, plan)
    if booked is None:
        return "successful but flagged refund_owed: the plan's times were taken"
    return f"successful: invoice paid, {booked} lessons booked"


async def _owed_back(db: AsyncSession, now: datetime, payment: Payment, tx: Transaction,
                     flag: str | None, detail: str | None) -> None:
    payment.flag, payment.flag_detail = flag, detail
    await money.collect(db, now, trans_id=tx.trans_id, amount=tx.amount,
                        into=Account(AccountKind.REFUND_OWED, payment.id), session_id=None)


def _lessons(invoice: Invoice) -> list[Lesson]:
    return [Lesson(datetime.fromisoformat(s), datetime.fromisoformat(e))
            for s, e in invoice.lessons]


async def _book(db: AsyncSession, rt: Runtime, payment: Payment, invoice: Invoice,
                plan: Plan) -> int | None:
    """Book the invoice's lessons still ahead as paid sessions, all or none; what was paid
    for lessons already begun goes to the payer's credit. None: a lesson's time was taken
    (the plan was paused and someone booked it) — nothing is booked and the money is owed
    back for an operator to settle with the family."""
    now = rt.clock.now()
    ahead, gone = payable_lessons(_lessons(invoice), now)
    sessions = [TutoringSession(
        id=uuid.uuid4(), kind=Kind.REGULAR, tutor_id=plan.tutor_id, student_id=plan.student_id,
        booked_by_id=plan.payer_id, subject=plan.subject, starts_at=x.starts_at,
        ends_at=x.ends_at, time_zone=plan.payer_zone, status=Status.PAID,
        price_xaf=invoice.lesson_price_xaf, hold_expires_at=None, meet_state=MeetState.PENDING,
        policy=plan.policy, plan_id=plan.id, invoice_id=invoice.id) for x in ahead]
    await db.flush()
    try:
        async with db.begin_nested():
            await db.execute(delete(TimeHold).where(
                TimeHold.plan_id == plan.id, TimeHold.purpose == HoldPurpose.PLAN,
                TimeHold.starts_at.in_([x.starts_at for x in ahead])))
            db.add_all(sessions)
            await db.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        await _times_taken(db, rt, payment, invoice)
        return None
    invoice.status = invoice_transition(invoice.status, InvoiceEvent.PAY)
    invoice.paid_at = now
    was = plan.status
    plan.status = plan_transition(plan.status, PlanEvent.PAID)
    plan.pause_reason = None
    shares = {money.clearing(s.id): s.price_xaf for s in sessions}
    shares[money.credit(plan.payer_id)] = invoice.lesson_price_xaf * len(gone)
    movement = transfer(f"book:invoice:{invoice.id}", "invoice_booked",
                        invoice_clearing(invoice.id), shares,
                        memo=f"invoice {invoice.id}: {len(sessions)} lessons")
    if movement:
        await ledger.post(db, movement, now=now, session_id=None)
    for session in sessions:
        await store.enqueue(db, JobKind.CREATE_MEETING, {"session_id": str(session.id)},
                            now=now, dedupe_key=f"create_meeting:{session.id}")
        await feed.record_change(db, session, "session.paid", trans_id=payment.trans_id,
                                 plan_id=str(plan.id))
    if was is PlanStatus.PAUSED:
        await plan_calendar.reserve(db, rt, plan, strict=False)
    await plan_calendar.tell(db, rt, plan, "invoice_paid", occasion=str(invoice.id),
                     detail=f"{len(sessions)} lessons")
    return len(sessions)


async def _times_taken(db: AsyncSession, rt: Runtime, payment: Payment, invoice: Invoice
                       ) -> None:
    """Paid, but a lesson's time is someone else's now: everything set aside for the
    invoice goes back — credit to credit, Fapshi's money owed back, flagged."""
    payment.flag = "refund_owed"
    payment.flag_detail = "invoice paid after the plan's times were taken"
    held = await ledger.balance(db, invoice_clearing(invoice.id))
    from_fapshi = 0 if payment.method == "credit" else min(held, payment.amount_xaf)
    plan = await db.get(Plan, invoice.plan_id)
    assert plan is not None
    movement = transfer(f"unbook:invoice:{invoice.id}:{payment.trans_id}", "refund_owed",
                        invoice_clearing(invoice.id),
                        {Account(AccountKind.REFUND_OWED, payment.id): from_fapshi,
                         money.credit(plan.payer_id): held - from_fapshi},
                        memo="plan's times taken")
    if movement:
        await ledger.post(db, movement, now=rt.clock.now(), session_id=None)


async def payments_of(db: AsyncSession, invoice_ids: list[uuid.UUID]) -> dict[uuid.UUID, Payment]:
    """Each invoice's latest payment attempt."""
    if not invoice_ids:
        return {}
    rows = await db.scalars(select(Payment).where(Payment.invoice_id.in_(invoice_ids))
                            .order_by(Payment.created_at))
    return {p.invoice_id: p for p in rows if p.invoice_id is not None}

