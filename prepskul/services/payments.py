"""Payments with Fapshi. A session is marked paid only by what Fapshi's payment-status API
answers — never by a webhook body — and only once, whatever the order or number of
webhooks and reconciliation checks that lead there."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Payment, Profile, TutoringSession
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed
from prepskul.domain.holds import check_hold
from prepskul.domain.ledger import Account, AccountKind
from prepskul.domain.lifecycle import Event, MeetState, Status
from prepskul.domain.payments import (
    LATE_SLOT_TAKEN,
    OPEN_PAYMENT,
    PaymentStatus,
    expires_session,
    judge_success,
    next_check_delay,
    payment_method,
)
from prepskul.domain.phone import normalise_phone
from prepskul.domain.policy import Outcome
from prepskul.providers.errors import PermanentProviderError
from prepskul.providers.fapshi.models import Initiated, Transaction
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import checkout, feed, holds, money, notifications, plan_payments
from prepskul.services.access import may_pay, session_for
from prepskul.services.booking import apply
from prepskul.services.lapses import release_lapsed
from prepskul.services.links import session_url


def external_id(session_id: uuid.UUID) -> str:
    """Ties a Fapshi transaction to its session (`[a-zA-Z0-9_-]{1,100}`)."""
    return session_id.hex


async def start_payment(
    db: AsyncSession, rt: Runtime, payer: Profile, session_id: uuid.UUID, *,
    method: str, phone: str | None = None, medium: str | None = None,
) -> Payment:
    """Open a payment for an awaiting_payment session: a checkout link or a phone prompt.
    The session row stays locked through the call, so two clicks cannot charge twice: the
    second finds the first's open attempt and gets it back."""
    method = payment_method(method)
    session = await session_for(db, payer, session_id, lock=True)
    if not may_pay(payer, session):
        raise NotAllowed("not_the_payer", "Only the person who booked can pay for a session.")
    if session.status != Status.AWAITING_PAYMENT:
        raise Conflict("not_awaiting_payment",
                       f"This session is {session.status.replace('_', ' ')}, not awaiting payment.")
    open_payment = (await db.scalars(select(Payment).where(
        Payment.session_id == session.id, Payment.status.in_(OPEN_PAYMENT)
    ))).first()
    if open_payment is not None:
        return open_payment
    check_hold(session.hold_expires_at, rt.clock.now())
    if method == "direct":
        if not phone:
            raise InvalidInput("phone_required", "Give the mobile-money number to prompt.")
        phone = normalise_phone(phone)
    now = rt.clock.now()
    # Credit pays first; Fapshi is asked only for what is left.
    due = await money.apply_credit(db, rt, session, payer.id)
    if due == 0:
        return await _paid_by_credit(db, rt, session)
    initiated = await _initiate(rt, session, payer, method, phone, medium, due)
    payment = Payment(
        session_id=session.id, trans_id=initiated.trans_id, method=method,
        amount_xaf=due,
        status=PaymentStatus.PENDING if method == "direct" else PaymentStatus.CREATED,
        link=initiated.link, phone=phone, medium=medium, next_check_at=now + timedelta(minutes=1),
    )
    db.add(payment)
    await db.flush()
    await feed.record_change(db, session, "payment.started", trans_id=payment.trans_id,
                             method=method)
    return payment


async def _paid_by_credit(db: AsyncSession, rt: Runtime, session: TutoringSession) -> Payment:
    """The payer's credit covered the whole price: paid at once, no Fapshi transaction."""
    now = rt.clock.now()
    payment = Payment(
        session_id=session.id, trans_id=f"credit-{session.id.hex[:25]}", method="credit",
        amount_xaf=session.price_xaf, status=PaymentStatus.SUCCESSFUL, confirmed_at=now,
        closed_at=now)
    db.add(payment)
    await db.flush()
    await _confirm(db, rt, session, payment.trans_id)
    return payment


async def _initiate(
    rt: Runtime, session: TutoringSession, payer: Profile, method: str, phone: str | None,
    medium: str | None, amount: int,
) -> Initiated:
    return await checkout.initiate(
        rt, payer, method=method, phone=phone, medium=medium, amount=amount,
        external_id=external_id(session.id), redirect=session_url(rt.settings, session.id),
        note=f"PrepSkul {session.kind} session: {session.subject}")


async def apply_transaction(db: AsyncSession, rt: Runtime, tx: Transaction, *,
                            learned_at: datetime | None = None) -> str:
    """Act on Fapshi's own answer about one transaction. Returns what happened, for the
    inbox and the logs. Idempotent: applying the same answer twice changes nothing.
    `learned_at`: when the news came (its webhook's arrival; now, for a check)."""
    now = rt.clock.now()
    payment = (await db.scalars(
        select(Payment).where(Payment.trans_id == tx.trans_id).with_for_update()
    )).first()
    if payment is None:
        await _record_unknown(db, tx)
        return "unknown transaction: flagged for operators"
    if payment.status == PaymentStatus.SUCCESSFUL:
        return "already successful: late news ignored"  # a late FAILED/EXPIRED never undoes it
    payment.checks += 1
    if payment.status == tx.status:
        return f"still {tx.status}"
    payment.status = tx.status
    if payment.invoice_id is not None:
        return await plan_payments.apply_transaction(db, rt, payment, tx)
    session = await db.get(TutoringSession, payment.session_id, with_for_update=True)
    assert session is not None
    if tx.status is PaymentStatus.SUCCESSFUL:
        return await _on_success(db, rt, payment, session, tx, learned_at or now)
    if tx.status is PaymentStatus.FAILED:
        if payment.method == "direct":
            payment.closed_at = now  # a prompt that failed is over; a link may still be paid
        await feed.record_change(db, session, "payment.failed", trans_id=tx.trans_id)
        await notifications.notify_people(db, rt, session, "payment_failed", occasion=tx.trans_id)
        return "failed: the payer may retry"
    if tx.status is PaymentStatus.EXPIRED:
        payment.closed_at = now
        min_notice = timedelta(minutes=rt.settings.booking_min_notice_minutes)
        if expires_session(session.status, session.starts_at - now, min_notice):
            apply(session, Event.EXPIRE)
            await money.settle(db, rt, session, Outcome.CANCELLED)
            await feed.record_change(db, session, "session.expired")
            return "expired: the session expired with it"
        await feed.record_change(db, session, "payment.expired", trans_id=tx.trans_id)
        return "expired"
    return f"now {tx.status}"


async def _on_success(
    db: AsyncSession, rt: Runtime, payment: Payment, session: TutoringSession, tx: Transaction,
    learned_at: datetime,
) -> str:
    now = rt.clock.now()
    payment.confirmed_at = payment.closed_at = now
    verdict = judge_success(
        session_status=session.status, expected_amount=payment.amount_xaf,
        paid_amount=tx.amount, expected_external_id=external_id(session.id),
        external_id=tx.external_id, starts_at=session.starts_at, now=now,
    )
    if verdict.late and not await _book_late(db, rt, session):
        verdict = LATE_SLOT_TAKEN
    if not verdict.confirm:
        payment.flag, payment.flag_detail = verdict.flag, verdict.detail
        # The money is real: it is owed back until an operator settles it.
        await money.collect(db, now, trans_id=tx.trans_id, amount=tx.amount,
                            into=Account(AccountKind.REFUND_OWED, payment.id),
                            session_id=session.id)
        await feed.record_change(db, session, "payment.flagged", flag=verdict.flag)
        return f"successful but flagged {verdict.flag}: {verdict.detail}"
    await money.collect(db, now, trans_id=tx.trans_id, amount=tx.amount,
                        into=money.clearing(session.id), session_id=session.id)
    if verdict.late:  # credit set aside for it went back when its hold lapsed: again
        await money.apply_credit(db, rt, session, session.booked_by_id, fapshi_pays_rest=False)
    await _confirm(db, rt, session, tx.trans_id, late=verdict.late, learned_at=learned_at)
    return "successful: session paid" + (" after its hold lapsed" if verdict.late else "")


async def _confirm(
    db: AsyncSession, rt: Runtime, session: TutoringSession, trans_id: str, *,
    late: bool = False, learned_at: datetime | None = None,
) -> None:
    """Paid: the session's time is held for good and its meeting is made. A late payment's
    session was already booked again by `_book_late`. The meeting's job carries when the
    payment became known, so the time to its Meet link is observed (`/metrics`)."""
    now = rt.clock.now()
    if not late:
        apply(session, Event.PAYMENT_CONFIRMED)
        session.hold_expires_at = None  # paid time is held for good
    session.meet_state = MeetState.PENDING
    # Same transaction as the status change: paid ⇔ exactly one create_meeting job.
    await store.enqueue(db, JobKind.CREATE_MEETING, {
        "session_id": str(session.id), "paid_at": (learned_at or now).isoformat()},
        now=now, dedupe_key=f"create_meeting:{session.id}")
    concerned = await feed.record_change(db, session, "session.paid", trans_id=trans_id)
    await notifications.notify_people(db, rt, session, "paid", to=concerned)


async def _book_late(db: AsyncSession, rt: Runtime, session: TutoringSession) -> bool:
    """Money for a session whose hold lapsed: take its time back if nobody else has (a
    lapsed hold in the way gives way as it would to a booking). False: it was taken."""
    await release_lapsed(db, rt, session.tutor_id, session.starts_at, session.ends_at)

    def book_it() -> None:
        apply(session, Event.LATE_PAYMENT)
        session.hold_expires_at = None

    if await holds.claim(db, book_it):
        return True
    await db.refresh(session)  # the savepoint's rollback left the row to be read again
    return False


async def _record_unknown(db: AsyncSession, tx: Transaction) -> None:
    """A transaction we never started: keep it for operators, change nothing else."""
    await db.execute(
        insert(Payment).values(
            session_id=None, trans_id=tx.trans_id, method="unknown", amount_xaf=tx.amount,
            status=tx.status, flag="unknown_transaction",
            flag_detail=f"externalId {tx.external_id!r} reported by Fapshi",
        ).on_conflict_do_nothing(index_elements=["trans_id"])
    )


UNKNOWN = "Fapshi does not know this transaction: nothing changed"


async def ask_fapshi(rt: Runtime, trans_id: str) -> Transaction | None:
    """What Fapshi's payment-status says of a transaction; None if it does not know it."""
    try:
        return await rt.fapshi.payment_status(trans_id)
    except PermanentProviderError as exc:
        if exc.status == 404:
            return None
        raise


async def check_with_fapshi(rt: Runtime, trans_id: str) -> str:
    """Ask Fapshi about one transaction, then apply its answer in a short transaction (the
    HTTP call is made outside it, so no row is locked while we wait on the network)."""
    tx = await ask_fapshi(rt, trans_id)
    if tx is None:
        return UNKNOWN
    async with rt.sessions.begin() as db:
        return await apply_transaction(db, rt, tx)


async def due_for_check(rt: Runtime, limit: int = 200) -> list[str]:
    """Open transactions whose next check is due; each one's next check is pushed back."""
    now = rt.clock.now()
    cap = timedelta(seconds=rt.settings.reconcile_interval_seconds)
    async with rt.sessions.begin() as db:
        due = (await db.scalars(
            select(Payment).where(Payment.closed_at.is_(None), Payment.next_check_at <= now,
                                  or_(Payment.session_id.is_not(None),
                                      Payment.invoice_id.is_not(None)))
            .order_by(Payment.next_check_at).limit(limit).with_for_update(skip_locked=True)
        )).all()
        for payment in due:
            payment.next_check_at = now + next_check_delay(
                now - payment.created_at, payment.checks, cap
            )
        return [p.trans_id for p in due]


async def latest_payments(db: AsyncSession, session_ids: list[uuid.UUID]
                          ) -> dict[uuid.UUID, Payment]:
    """Each session's latest payment attempt, for a whole page of sessions in one query."""
    if not session_ids:
        return {}
    rows = await db.scalars(
        select(Payment).where(Payment.session_id.in_(session_ids))
        .order_by(Payment.session_id, Payment.created_at.desc())
        .ext(distinct_on(Payment.session_id)))
    return {p.session_id: p for p in rows if p.session_id is not None}


async def latest_payment(db: AsyncSession, session_id: uuid.UUID) -> Payment | None:
    return (await latest_payments(db, [session_id])).get(session_id)
