"""Plans API: propose, list, read, approve, decline, pause, resume, change times, end; a
plan's invoices and paying one; operators' overdue invoices."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.api.deps import DB, Admin, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.api.payments import PaymentIn
from prepskul.api.schemas import Day, FromRow, PaymentOut, ReasonIn
from prepskul.api.tutor_schemas import CLOCK, CLOCK_HELP
from prepskul.db.models import Invoice, Plan
from prepskul.domain.availability import format_clock, parse_clock
from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES
from prepskul.domain.plans import Frequency, PlanStatus, WeeklySlot
from prepskul.services import plan_billing, plan_payments, plans
from prepskul.services.plan_calendar import slots_of

router = APIRouter(tags=["plans"])


class SlotIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: StrictInt = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=CLOCK, description=CLOCK_HELP)
    minutes: StrictInt = Field(ge=MIN_MINUTES, le=MAX_MINUTES)

    def domain(self) -> WeeklySlot:
        return WeeklySlot(self.weekday, parse_clock(self.start), self.minutes)

    @classmethod
    def of(cls, slot: WeeklySlot) -> SlotIO:
        return cls(weekday=slot.weekday, start=format_clock(slot.start), minutes=slot.minutes)


Slots = Annotated[list[SlotIO], Field(min_length=1, max_length=7)]


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tutor_id: uuid.UUID
    subject: str = Field(min_length=1, max_length=80)
    slots: Slots = Field(description="weekly lessons on the tutor's clock, one length")
    frequency: Frequency = Field(description="billed every 28 (monthly), 14 or 7 days")
    starts_on: Day
    ends_on: Day | None = Field(None, description="the last day with lessons (inclusive)")
    student_id: uuid.UUID | None = Field(None, description="required when a parent proposes")


class SlotsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slots: Slots


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ends_on: Day | None = Field(None, description="the last day with lessons; absent: today")


class InvoiceOut(FromRow):
    id: uuid.UUID
    plan_id: uuid.UUID
    period_index: int
    period_first: date
    period_after: date = Field(description="the day after the period's last day")
    lessons: list[list[str]] = Field(description="[starts_at, ends_at] of each lesson, UTC")
    unit_price_xaf: int
    frequency_discount_xaf: int
    sibling_discount_xaf: int
    lesson_price_xaf: int
    total_xaf: int = Field(description="what the period costs; credit is taken when paying")
    status: str = Field(description="open, overdue, paid or void")
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    payment: PaymentOut | None = None


class PlanOut(BaseModel):
    id: uuid.UUID
    status: str = Field(description="proposed, approved, declined, active, paused or ended")
    tutor_id: uuid.UUID
    student_id: uuid.UUID
    payer_id: uuid.UUID
    subject: str
    slots: list[SlotIO]
    next_slots: list[SlotIO] | None
    next_slots_from: int | None = Field(description="the period the new times apply from")
    tutor_zone: str
    payer_zone: str
    frequency: str
    start_date: date
    end_date: date | None
    unit_price_xaf: int
    decline_reason: str | None
    pause_reason: str | None = Field(description="paused_by_payer or unpaid")
    created_at: datetime
    invoices: list[InvoiceOut] = []

    @classmethod
    def of(cls, p: Plan, invoices: list[InvoiceOut] | None = None) -> PlanOut:
        return cls(
            id=p.id, status=p.status, tutor_id=p.tutor_id, student_id=p.student_id,
            payer_id=p.payer_id, subject=p.subject,
            slots=[SlotIO.of(s) for s in slots_of(p.slots)],
            next_slots=[SlotIO.of(s) for s in slots_of(p.next_slots)] if p.next_slots else None,
            next_slots_from=p.next_slots_from, tutor_zone=p.tutor_zone, payer_zone=p.payer_zone,
            frequency=p.frequency, start_date=p.start_date, end_date=p.end_date,
            unit_price_xaf=p.unit_price_xaf, decline_reason=p.decline_reason,
            pause_reason=p.pause_reason, created_at=p.created_at, invoices=invoices or [])


async def invoices_out(db: AsyncSession, invoices: list[Invoice]) -> list[InvoiceOut]:
    latest = await plan_payments.payments_of(db, [i.id for i in invoices])
    out = []
    for invoice in invoices:
        row = InvoiceOut.model_validate(invoice)
        payment = latest.get(invoice.id)
        row.payment = PaymentOut.model_validate(payment) if payment else None
        out.append(row)
    return out


async def shaped(db: AsyncSession, plan: Plan) -> PlanOut:
    await db.flush()
    await db.refresh(plan)
    return PlanOut.of(plan, await invoices_out(db, await plan_billing.invoices_of(db, plan)))


@router.post("/api/plans", status_code=201, response_model=PlanOut,
             responses=errors(403, 404, 409, 429))
async def propose(body: PlanIn, db: DB, rt: RuntimeDep, user: User) -> PlanOut:
    """Propose regular lessons to a tutor. Every lesson up to the tutor's booking horizon
    must be in their hours and free; a conflict is refused now, naming the lesson."""
    plan = await plans.propose(db, rt, user, plans.PlanRequest(
        tutor_id=body.tutor_id, subject=body.subject, slots=[s.domain() for s in body.slots],
        frequency=body.frequency, starts_on=body.starts_on, ends_on=body.ends_on,
        student_id=body.student_id))
    return await shaped(db, plan)


@router.get("/api/plans", response_model=list[PlanOut])
async def list_plans(db: DB, user: User, status: PlanStatus | None = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[PlanOut]:
    return [PlanOut.of(p) for p in await plans.list_plans(db, user, status=status, limit=limit)]


@router.get("/api/plans/{plan_id}", response_model=PlanOut, responses=errors(404))
async def get_plan(plan_id: uuid.UUID, db: DB, user: User) -> PlanOut:
    """The plan with its invoices (each with its latest payment attempt)."""
    return await shaped(db, await plans.plan_for(db, user, plan_id))


@router.post("/api/plans/{plan_id}/approve", response_model=PlanOut, responses=errors(403, 409))
async def approve(plan_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> PlanOut:
    """The tutor accepts: the plan's times are reserved and the first invoice issued."""
    return await shaped(db, await plans.approve(db, rt, user, plan_id))


@router.post("/api/plans/{plan_id}/decline", response_model=PlanOut, responses=errors(403, 409))
async def decline(plan_id: uuid.UUID, body: ReasonIn, db: DB, rt: RuntimeDep,
                  user: User) -> PlanOut:
    return await shaped(db, await plans.decline(db, rt, user, plan_id, body.reason))


@router.post("/api/plans/{plan_id}/pause", response_model=PlanOut, responses=errors(403, 409))
async def pause(plan_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> PlanOut:
    return await shaped(db, await plans.pause(db, rt, user, plan_id))


@router.post("/api/plans/{plan_id}/resume", response_model=PlanOut, responses=errors(403, 409))
async def resume(plan_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> PlanOut:
    return await shaped(db, await plans.resume(db, rt, user, plan_id))


@router.put("/api/plans/{plan_id}/slots", response_model=PlanOut, responses=errors(403, 409))
async def change_slots(plan_id: uuid.UUID, body: SlotsIn, db: DB, rt: RuntimeDep,
                       user: User) -> PlanOut:
    """New weekly times from the next period not yet invoiced."""
    return await shaped(db, await plans.change_slots(
        db, rt, user, plan_id, [s.domain() for s in body.slots]))


@router.post("/api/plans/{plan_id}/end", response_model=PlanOut, responses=errors(403, 409))
async def end(plan_id: uuid.UUID, body: EndIn, db: DB, rt: RuntimeDep, user: User) -> PlanOut:
    return await shaped(db, await plans.end(db, rt, user, plan_id, body.ends_on))


@router.get("/api/invoices/{invoice_id}", response_model=InvoiceOut, responses=errors(404))
async def get_invoice(invoice_id: uuid.UUID, db: DB, user: User) -> InvoiceOut:
    invoice, _ = await plan_payments.invoice_for(db, user, invoice_id)
    return (await invoices_out(db, [invoice]))[0]


@router.post("/api/invoices/{invoice_id}/payments", status_code=201, response_model=PaymentOut,
             responses=errors(403, 404, 409))
async def pay_invoice(invoice_id: uuid.UUID, body: PaymentIn, db: DB, rt: RuntimeDep,
                      user: User) -> PaymentOut:
    """Like a session's payment: the amount is the invoice's, less the payer's credit; a
    second request while an attempt is open returns it."""
    payment = await plan_payments.start_payment(
        db, rt, user, invoice_id, method=body.method, phone=body.phone, medium=body.medium)
    return PaymentOut.model_validate(payment)


@router.get("/api/admin/invoices", response_model=list[InvoiceOut])
async def overdue_invoices(db: DB, _: Admin) -> list[InvoiceOut]:
    """Invoices past their due date, oldest first."""
    return await invoices_out(db, await plan_billing.overdue(db))
