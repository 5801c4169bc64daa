"""Refunds an operator settles: money that came in for a session that could not take it
(paid after cancellation, paid twice, the wrong amount). Every one is resolved by a person —
to the payer's credit, out to their phone, or waived with a reason — and audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import LedgerAccount, Payment, Profile, TutoringSession
from prepskul.domain.errors import Conflict, InvalidInput, NotFound
from prepskul.domain.ledger import REVENUE, Account, AccountKind, transfer
from prepskul.domain.payouts import Purpose
from prepskul.domain.phone import normalise_phone
from prepskul.runtime import Runtime
from prepskul.services import audit, ledger, money, payouts


class Resolution(StrEnum):
    CREDIT = "credit"
    PAYOUT = "payout"
    WAIVE = "waive"


@dataclass(frozen=True)
class OwedRefund:
    payment: Payment
    owed_xaf: int
    payer_id: uuid.UUID | None


def owed_account(payment_id: uuid.UUID) -> Account:
    return Account(AccountKind.REFUND_OWED, payment_id)


async def owed(db: AsyncSession) -> list[OwedRefund]:
    rows = await db.execute(
        select(Payment, LedgerAccount.balance_xaf, TutoringSession.booked_by_id)
        .join(LedgerAccount, (LedgerAccount.owner_id == Payment.id)
              & (LedgerAccount.kind == AccountKind.REFUND_OWED))
        .outerjoin(TutoringSession, TutoringSession.id == Payment.session_id)
        .where(LedgerAccount.balance_xaf > 0).order_by(Payment.updated_at))
    return [OwedRefund(p, int(b), payer) for p, b, payer in rows.all()]


async def resolve(
    db: AsyncSession, rt: Runtime, actor: Profile, payment_id: uuid.UUID,
    action: Resolution, reason: str, phone: str | None = None,
) -> OwedRefund:
    """Settle one owed refund in full. Twice is refused: the first emptied what was owed."""
    payment = await db.get(Payment, payment_id)
    if payment is None:
        raise NotFound("payment_not_found", "There is no payment with that id.")
    account = owed_account(payment.id)
    amount = await ledger.lock(db, account)
    if amount == 0:
        raise Conflict("nothing_owed", "Nothing is owed on this payment (already resolved?).")
    session = await db.get(TutoringSession, payment.session_id) if payment.session_id else None
    if session is None:
        raise Conflict("no_payer", "This payment belongs to no session, so to no payer.")
    payer = session.booked_by_id
    why = audit.reason_given(reason)
    if action is Resolution.CREDIT:
        await _move(db, rt, actor, payment, {money.credit(payer): amount}, why)
    elif action is Resolution.WAIVE:
        await _move(db, rt, actor, payment, {REVENUE: amount}, why)
    else:
        number = phone or payment.phone
        if not number:
            raise InvalidInput("phone_required", "Give the mobile-money number to pay.")
        await payouts.send_out(db, rt, actor, purpose=Purpose.REFUND, beneficiary=payer,
                               from_account=account, amount=amount,
                               phone=normalise_phone(number))
    await audit.record(db, rt, actor, f"refund_{action.value}", f"payment:{payment.id}", why,
                       amount_xaf=amount)
    return OwedRefund(payment, 0, payer)


async def _move(
    db: AsyncSession, rt: Runtime, actor: Profile, payment: Payment,
    to: dict[Account, int], why: str,
) -> None:
    movement = transfer(f"refund:{payment.id}", "refund_resolved", owed_account(payment.id),
                        to, memo=why)
    assert movement is not None
    await ledger.post(db, movement, now=rt.clock.now(), session_id=payment.session_id,
                      actor_id=actor.id)
