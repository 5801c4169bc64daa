"""Plan pages: propose regular lessons from a tutor's page, a person's plans, one plan with
its invoices (the tutor approves or declines, the payer pays, pauses, resumes or ends).
Same services and rules as the API; a refusal comes back as a sentence and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.api.deps import DB, RuntimeDep
from prepskul.db.models import Profile
from prepskul.domain.availability import format_clock, parse_clock
from prepskul.domain.errors import DomainError, InvalidInput
from prepskul.domain.payments import PaymentMethod
from prepskul.domain.plans import PAYABLE, PlanStatus, WeeklySlot
from prepskul.services import plan_billing, plan_calendar, plan_payments, plans
from prepskul.web.rendering import Csrf, PageUser, back, render

router = APIRouter(include_in_schema=False)


async def _refusable(db: AsyncSession, work: Callable[[], Awaitable[str | None]],
                     on_refusal: str) -> Response:
    """Run a change in a savepoint: a refusal undoes whatever it had begun."""
    try:
        async with db.begin_nested():
            target = await work()
    except DomainError as exc:
        return back(on_refusal, exc.message)
    return RedirectResponse(target or on_refusal, status_code=303)


@router.post("/plans")
async def propose(request: Request, db: DB, rt: RuntimeDep, user: PageUser, _: Csrf,
                  tutor_id: Annotated[uuid.UUID, Form()],
                  subject: Annotated[str, Form(max_length=80)],
                  start: Annotated[str, Form(max_length=5)],
                  minutes: Annotated[int, Form(ge=30, le=180)],
                  frequency: Annotated[str, Form(max_length=16)],
                  starts_on: Annotated[date, Form()],
                  weekdays: Annotated[list[int] | None, Form()] = None,
                  student_id: Annotated[uuid.UUID | None, Form()] = None) -> Response:
    async def work() -> str:
        if not weekdays:
            raise InvalidInput("invalid_slots", "Tick at least one day of the week.")
        slots = [WeeklySlot(day, parse_clock(start), minutes) for day in sorted(set(weekdays))]
        plan = await plans.propose(db, rt, user, plans.PlanRequest(
            tutor_id=tutor_id, subject=subject, slots=slots, frequency=frequency,
            starts_on=starts_on, student_id=student_id))
        return f"/plans/{plan.id}"
    return await _refusable(db, work, f"/tutors/{tutor_id}")


@router.get("/plans")
async def plans_page(request: Request, db: DB, user: PageUser) -> Response:
    return render(request, "plans.html", user, plans=await plans.list_plans(db, user),
                  slots_text=slots_text)


def slots_text(record: list[dict[str, int]], words: str) -> str:
    days = words.split(",")
    return ", ".join(f"{days[s.weekday]} {format_clock(s.start)} ({s.minutes} min)"
                     for s in plan_calendar.slots_of(record))


@router.get("/plans/{plan_id}")
async def plan_page(request: Request, plan_id: uuid.UUID, db: DB, user: PageUser) -> Response:
    try:
        plan = await plans.plan_for(db, user, plan_id)
    except DomainError as exc:
        return back("/plans", exc.message)
    invoices = await plan_billing.invoices_of(db, plan)
    latest = await plan_payments.payments_of(db, [i.id for i in invoices])
    people = {p.id: p for p in [await db.get(Profile, pid) for pid in plan_calendar.people_of(plan)]
              if p is not None}
    is_payer = user.id == plan.payer_id or user.role == "admin"
    return render(request, "plan.html", user, plan=plan, invoices=invoices, latest=latest,
                  people=people, slots_text=slots_text, payable=PAYABLE,
                  is_tutor=user.id == plan.tutor_id or user.role == "admin",
                  is_payer=is_payer, statuses=PlanStatus)


@router.post("/plans/{plan_id}/{action}")
async def plan_action(request: Request, plan_id: uuid.UUID, action: str, db: DB,
                      rt: RuntimeDep, user: PageUser, _: Csrf,
                      reason: Annotated[str, Form(max_length=1000)] = "") -> Response:
    async def work() -> None:
        if action == "approve":
            await plans.approve(db, rt, user, plan_id)
        elif action == "decline":
            await plans.decline(db, rt, user, plan_id, reason)
        elif action == "pause":
            await plans.pause(db, rt, user, plan_id)
        elif action == "resume":
            await plans.resume(db, rt, user, plan_id)
        elif action == "end":
            await plans.end(db, rt, user, plan_id, None)
        else:
            raise InvalidInput("unknown_action", "That is not something a plan does.")
    return await _refusable(db, work, f"/plans/{plan_id}")


@router.post("/invoices/{invoice_id}/pay")
async def pay(request: Request, invoice_id: uuid.UUID, db: DB, rt: RuntimeDep,
              user: PageUser, _: Csrf, plan_id: Annotated[uuid.UUID, Form()],
              method: Annotated[PaymentMethod, Form()],
              phone: Annotated[str, Form(max_length=32)] = "") -> Response:
    async def work() -> str | None:
        payment = await plan_payments.start_payment(db, rt, user, invoice_id, method=method,
                                                    phone=phone or None)
        return payment.link if method == "link" and payment.link else None
    return await _refusable(db, work, f"/plans/{plan_id}")
