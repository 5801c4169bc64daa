"""Operator API for money (admin role): payouts to approve, refunds owed, earnings holds,
daily totals and the audit of decisions. Every decision is audited with its reason."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from prepskul.api.deps import DB, Admin, RuntimeDep
from prepskul.api.money import PayoutOut
from prepskul.api.schemas import Day, FromRow
from prepskul.services import audit, money, payouts, refunds, statements

router = APIRouter(prefix="/api/admin", tags=["operators"])


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class EarningOut(FromRow):
    session_id: uuid.UUID
    tutor_id: uuid.UUID
    amount_xaf: int
    release_at: datetime
    held_reason: str | None
    released_at: datetime | None


@router.post("/earnings/{session_id}/hold", response_model=EarningOut)
async def hold(session_id: uuid.UUID, body: DecisionIn, db: DB, rt: RuntimeDep,
               admin: Admin) -> EarningOut:
    return EarningOut.model_validate(
        await money.hold_earning(db, rt, admin, session_id, body.reason))


@router.post("/earnings/{session_id}/release", response_model=EarningOut)
async def release(session_id: uuid.UUID, body: DecisionIn, db: DB, rt: RuntimeDep,
                  admin: Admin) -> EarningOut:
    return EarningOut.model_validate(
        await money.release_earning(db, rt, admin, session_id, body.reason))


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("approved", min_length=1, max_length=1000)


@router.post("/payouts/{payout_id}/approve", response_model=PayoutOut)
async def approve_payout(payout_id: uuid.UUID, body: ApprovalIn, db: DB, rt: RuntimeDep,
                         admin: Admin) -> PayoutOut:
    return PayoutOut.model_validate(await payouts.approve(db, rt, admin, payout_id, body.reason))


@router.post("/payouts/{payout_id}/reject", response_model=PayoutOut)
async def reject_payout(payout_id: uuid.UUID, body: DecisionIn, db: DB, rt: RuntimeDep,
                        admin: Admin) -> PayoutOut:
    return PayoutOut.model_validate(await payouts.reject(db, rt, admin, payout_id, body.reason))


class OwedRefundOut(BaseModel):
    payment_id: uuid.UUID
    session_id: uuid.UUID | None
    trans_id: str
    flag: str | None
    flag_detail: str | None
    owed_xaf: int
    payer_id: uuid.UUID | None
    phone: str | None


@router.get("/refunds", response_model=list[OwedRefundOut])
async def owed_refunds(db: DB, _: Admin) -> list[OwedRefundOut]:
    """Money owed back to payers, waiting for an operator's decision."""
    return [OwedRefundOut(payment_id=r.payment.id, session_id=r.payment.session_id,
                          trans_id=r.payment.trans_id, flag=r.payment.flag,
                          flag_detail=r.payment.flag_detail, owed_xaf=r.owed_xaf,
                          payer_id=r.payer_id, phone=r.payment.phone)
            for r in await refunds.owed(db)]


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: refunds.Resolution
    reason: str = Field(min_length=1, max_length=1000)
    phone: str | None = Field(None, max_length=32, description="for 'payout'")


@router.post("/refunds/{payment_id}", status_code=204)
async def resolve_refund(payment_id: uuid.UUID, body: ResolutionIn, db: DB, rt: RuntimeDep,
                         admin: Admin) -> None:
    """Settle what a payment is owed: to the payer's credit, out to their phone, or waived
    (kept, with the reason). Audited."""
    await refunds.resolve(db, rt, admin, payment_id, body.action, body.reason, body.phone)


class DailyTotalsOut(BaseModel):
    day: date
    collected_xaf: int
    refunded_to_credit_xaf: int
    paid_out_xaf: int
    platform_revenue_xaf: int
    tutor_earned_xaf: int
    outside_change_xaf: int
    reconciles: bool


@router.get("/money/daily", response_model=DailyTotalsOut)
async def daily(db: DB, rt: RuntimeDep, _: Admin, day: Day | None = None) -> DailyTotalsOut:
    """One day's money (Africa/Douala; today by default), from the ledger: `reconciles` is
    true when what came in less what went out equals the ledger's own movement to the
    franc."""
    t = await statements.daily_totals(db, day or statements.today(rt.clock.now()))
    return DailyTotalsOut(day=t.day, collected_xaf=t.collected,
                          refunded_to_credit_xaf=t.refunded_to_credit, paid_out_xaf=t.paid_out,
                          platform_revenue_xaf=t.platform_revenue,
                          tutor_earned_xaf=t.tutor_earned, outside_change_xaf=t.outside_change,
                          reconciles=t.reconciles)


class OperatorActionOut(FromRow):
    id: int
    actor_id: uuid.UUID
    action: str
    subject: str
    reason: str
    at: datetime


@router.get("/money/audit", response_model=list[OperatorActionOut])
async def audit_log(db: DB, _: Admin, limit: Annotated[int, Query(ge=1, le=500)] = 100
                    ) -> list[OperatorActionOut]:
    """Operators' decisions about money, newest first."""
    return [OperatorActionOut.model_validate(a) for a in await audit.recent(db, limit)]
