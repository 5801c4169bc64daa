"""Money for the people it concerns: what a cancellation would do, balances, withdrawals
and the monthly statement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import FromRow
from prepskul.domain.payouts import PayoutStatus
from prepskul.services import money, payouts, statements

router = APIRouter(prefix="/api", tags=["money"])


class CancellationQuoteOut(BaseModel):
    held_xaf: int
    refund_xaf: int
    refund_to: Literal["credit"] = "credit"
    tutor_xaf: int
    platform_xaf: int
    reason: str
    currency: Literal["XAF"] = "XAF"


class BalanceOut(BaseModel):
    credit_xaf: int
    earnings_pending_xaf: int
    earnings_available_xaf: int
    payouts_reserved_xaf: int
    currency: Literal["XAF"] = "XAF"


@router.get("/sessions/{session_id}/cancellation", response_model=CancellationQuoteOut)
async def cancellation_quote(
    session_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User
) -> CancellationQuoteOut:
    """What `POST /api/sessions/{id}/cancel` would do with the money if the caller cancelled
    now: shown before they confirm."""
    q = await money.cancellation_quote(db, rt, user, session_id)
    return CancellationQuoteOut(held_xaf=q.held, refund_xaf=q.split.refund,
                                tutor_xaf=q.split.tutor, platform_xaf=q.split.platform,
                                reason=q.split.reason)


@router.get("/me/balance", response_model=BalanceOut)
async def balance(db: DB, user: User) -> BalanceOut:
    b = await money.balances(db, user.id)
    return BalanceOut(credit_xaf=b.credit, earnings_pending_xaf=b.pending,
                      earnings_available_xaf=b.available, payouts_reserved_xaf=b.reserved)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_xaf: StrictInt = Field(ge=1, le=10_000_000)
    phone: str = Field(min_length=1, max_length=32,
                       description="Cameroon mobile money, e.g. 670 00 00 00 or +237…")


class PayoutOut(FromRow):
    id: uuid.UUID
    beneficiary_id: uuid.UUID
    purpose: str
    amount_xaf: int
    phone: str
    status: str
    trans_id: str | None
    failure: str | None
    created_at: datetime
    decided_at: datetime | None
    finished_at: datetime | None


@router.post("/payouts", status_code=201, response_model=PayoutOut)
async def withdraw(body: WithdrawalIn, db: DB, rt: RuntimeDep, user: User) -> PayoutOut:
    """A tutor withdraws available earnings (at least `PAYOUT_MINIMUM_XAF`), anyone else
    their credit, to a Cameroon mobile-money number. The amount is reserved at once; an
    operator approves it (or it goes out by itself below `PAYOUT_AUTO_APPROVE_BELOW_XAF`)."""
    payout = await payouts.request_withdrawal(db, rt, user, body.amount_xaf, body.phone)
    return PayoutOut.model_validate(payout)


@router.get("/payouts", response_model=list[PayoutOut])
async def my_payouts(db: DB, user: User, status: PayoutStatus | None = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[PayoutOut]:
    """The caller's payouts (an operator's: everyone's), newest first."""
    return [PayoutOut.model_validate(p)
            for p in await payouts.list_payouts(db, user, status, limit)]


@router.get("/me/statement.csv", response_class=PlainTextResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def statement(
    db: DB, rt: RuntimeDep, user: User,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> PlainTextResponse:
    """The caller's earnings for a month (YYYY-MM, this month by default), one line per
    movement with the balances after it."""
    month = month or statements.this_month(rt.clock.now())
    body = await statements.tutor_statement(db, user.id, month)
    return PlainTextResponse(body, media_type="text/csv", headers={
        "content-disposition": f'attachment; filename="prepskul-earnings-{month}.csv"'})
