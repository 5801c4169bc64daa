"""Money pages: a person's balances, withdrawals and statements (`/money`), and the
operators' money console (`/ops/money`). Same services and rules as the API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from prepskul.api.deps import DB, RuntimeDep
from prepskul.domain.errors import DomainError
from prepskul.domain.payouts import PayoutStatus
from prepskul.domain.people import Role
from prepskul.services import audit, money, payouts, plan_billing, refunds, statements
from prepskul.web.rendering import Csrf, PageUser, back, render

router = APIRouter(include_in_schema=False)


@router.get("/money")
async def money_page(request: Request, db: DB, rt: RuntimeDep, user: PageUser) -> Response:
    return render(request, "money.html", user,
                  balance=await money.balances(db, user.id),
                  payouts=await payouts.list_payouts(db, user, limit=50)
                  if user.role is not Role.ADMIN else [],
                  month=statements.this_month(rt.clock.now()),
                  minimum=rt.settings.payout_minimum_xaf if user.role is Role.TUTOR else 100)


@router.post("/money/withdraw")
async def withdraw(request: Request, db: DB, rt: RuntimeDep, user: PageUser, _: Csrf,
                   amount: Annotated[int, Form(ge=1, le=10_000_000)],
                   phone: Annotated[str, Form(max_length=32)]) -> Response:
    try:
        await payouts.request_withdrawal(db, rt, user, amount, phone)
    except DomainError as exc:
        return back("/money", exc.message)
    return back("/money")


@router.get("/ops/money")
async def ops_money(request: Request, db: DB, rt: RuntimeDep, user: PageUser) -> Response:
    if user.role is not Role.ADMIN:
        return back("/sessions", "The operations console is for operators.")
    return render(request, "ops_money.html", user,
                  waiting=await payouts.list_payouts(db, user, PayoutStatus.REQUESTED),
                  recent=await payouts.list_payouts(db, user, limit=30),
                  owed=await refunds.owed(db),
                  totals=await statements.daily_totals(db, statements.today(rt.clock.now())),
                  decisions=await audit.recent(db, 30),
                  overdue=await plan_billing.overdue(db, 50))


@router.post("/ops/money/{what}/{item_id}")
async def ops_money_action(request: Request, what: str, item_id: uuid.UUID, db: DB,
                           rt: RuntimeDep, user: PageUser, _: Csrf,
                           action: Annotated[str, Form()] = "",
                           reason: Annotated[str, Form(max_length=1000)] = "",
                           phone: Annotated[str, Form(max_length=32)] = "") -> Response:
    if user.role is not Role.ADMIN:
        return back("/sessions", "The operations console is for operators.")
    try:
        if what == "payouts" and action == "approve":
            await payouts.approve(db, rt, user, item_id, reason or "approved")
        elif what == "payouts" and action == "reject":
            await payouts.reject(db, rt, user, item_id, reason)
        elif what == "refunds" and action in refunds.Resolution._value2member_map_:
            await refunds.resolve(db, rt, user, item_id, refunds.Resolution(action), reason,
                                  phone or None)
        else:
            return back("/ops/money", "That is not something operators can do.")
    except DomainError as exc:
        return back("/ops/money", exc.message)
    return back("/ops/money", "Done.")
