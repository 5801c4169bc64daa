"""A plan's invoices over time: issued ahead of each billing period, reminded before they
fall due, overdue after, and — unpaid past the grace — the plan paused. Run by a recurring
job (`jobs.plans`), one plan per short transaction; every step is idempotent (one invoice
per period by a unique constraint, one reminder per label by the notification's key)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Invoice, Payment, Plan, Profile
from prepskul.domain.payments import OPEN_PAYMENT
from prepskul.domain.people import Role
from prepskul.domain.plans import (
    LIVE,
    PAYABLE,
    RESERVING,
    InvoiceEvent,
    InvoiceStatus,
    Lesson,
    PlanEvent,
    PlanStatus,
    due_at,
    invoice_amount,
    invoice_transition,
    is_overdue,
    past_grace,
    period,
    period_index_on,
    period_lessons,
    plan_transition,
    reminders_due,
)
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import booking, plan_calendar
from prepskul.services.availability import limits_for
from prepskul.services.messages import plan_detail
from prepskul.services.plan_calendar import terms_of

log = logging.getLogger(__name__)


async def next_period_index(db: AsyncSession, plan: Plan) -> int:
    """The first period not invoiced yet (never one that has already passed)."""
    last = await db.scalar(select(func.max(Invoice.period_index))
                           .where(Invoice.plan_id == plan.id))
    return -1 if last is None else int(last) + 1


async def other_children(db: AsyncSession, plan: Plan, payer: Profile,
                         starts_at: datetime) -> int:
    """For the sibling discount: how many of a parent's other children have an active plan
    (one being paid for) or a booked session that month. A plan approved but never paid, or
    paused, does not count: else one lapsed plan for a made-up child would discount every
    other child's invoices for ever."""
    if payer.role != Role.PARENT:
        return 0
    planned = await db.scalar(select(func.count(Plan.student_id.distinct())).where(
        Plan.payer_id == payer.id, Plan.student_id != plan.student_id,
        Plan.status == PlanStatus.ACTIVE))
    booked = await booking.siblings_booked(db, payer, plan.student_id, starts_at)
    return max(int(planned or 0), booked)


async def issue_due(db: AsyncSession, rt: Runtime, plan: Plan) -> list[Invoice]:
    """Issue every invoice whose period starts within the lead time (the first one at
    once), skipping periods already past or without lessons. Idempotent."""
    now = rt.clock.now()
    today = plan_calendar.tutor_today(plan, now)
    lead = timedelta(days=rt.settings.plan_invoice_lead_days)
    index = max(await next_period_index(db, plan), period_index_on(terms_of(plan), today), 0)
    issued: list[Invoice] = []
    while (p := period(terms_of(plan, index), index)) is not None:
        if index > 0 and p.first - lead > today:
            break
        found = [x for x in period_lessons(terms_of(plan, index), p) if x.starts_at > now]
        if found and (invoice := await _issue(db, rt, plan, index, found)) is not None:
            issued.append(invoice)
        index += 1
    return issued


def fold_slots(plan: Plan, today: date) -> None:
    """Once the period a change of times applies from has begun, the old times concern no
    future lesson: the new ones become the plan's times."""
    if plan.next_slots is None or plan.next_slots_from is None:
        return
    p = period(terms_of(plan, plan.next_slots_from), plan.next_slots_from)
    if p is None or p.first <= today:
        plan.slots, plan.next_slots, plan.next_slots_from = plan.next_slots, None, None


async def _issue(db: AsyncSession, rt: Runtime, plan: Plan, index: int,
                 found: list[Lesson]) -> Invoice | None:
    payer = await db.get(Profile, plan.payer_id)
    assert payer is not None
    amount = invoice_amount(
        lessons=len(found), unit_price=plan.unit_price_xaf,
        frequency_percent=plan_calendar.discounts(rt).percent(plan.frequency),
        sibling_percent=rt.settings.sibling_discount_percent,
        other_children=await other_children(db, plan, payer, found[0].starts_at),
        credit_available=0)  # credit is taken when it is paid, as for a session
    p = period(terms_of(plan, index), index)
    assert p is not None
    now = rt.clock.now()
    row = (await db.execute(insert(Invoice).values(
        id=uuid.uuid4(), plan_id=plan.id, period_index=index, period_first=p.first,
        period_after=p.after,
        lessons=[[x.starts_at.astimezone(UTC).isoformat(), x.ends_at.astimezone(UTC).isoformat()]
                 for x in found],
        unit_price_xaf=amount.unit_price, frequency_discount_xaf=amount.frequency_discount,
        sibling_discount_xaf=amount.sibling_discount, lesson_price_xaf=amount.lesson_price,
        total_xaf=amount.total, status=InvoiceStatus.OPEN, issued_at=now,
        due_at=due_at(p, plan.payer_zone, found), reminders_sent=[],
    ).on_conflict_do_nothing(index_elements=["plan_id", "period_index"])
        .returning(Invoice.id))).scalar()
    if row is None:
        return None
    invoice = await db.get(Invoice, row)
    assert invoice is not None
    await plan_calendar.tell(db, rt, plan, "invoice_issued", to=[plan.payer_id],
                     occasion=str(invoice.id), detail=_due_text(invoice, payer))
    return invoice


def _due_text(invoice: Invoice, person: Profile) -> str:
    return plan_detail("invoice", person.language, n=len(invoice.lessons), when=invoice.due_at,
                       zone=person.time_zone, total=invoice.total_xaf)


async def void_unpaid(db: AsyncSession, rt: Runtime, plan: Plan, *, only_open: bool) -> None:
    """Void the plan's unpaid invoices (`only_open`: not those already overdue, which stay
    payable), closing their open checkout links at Fapshi."""
    statuses = [InvoiceStatus.OPEN] if only_open else list(PAYABLE)
    await _void(db, rt, select(Invoice).where(Invoice.plan_id == plan.id,
                                              Invoice.status.in_(statuses)))


async def void_after(db: AsyncSession, rt: Runtime, plan: Plan, last_day: date) -> None:
    await _void(db, rt, select(Invoice).where(
        Invoice.plan_id == plan.id, Invoice.status.in_(PAYABLE),
        Invoice.period_first > last_day))


async def _void(db: AsyncSession, rt: Runtime, query: object) -> None:
    for invoice in (await db.scalars(query.with_for_update())).all():  # type: ignore[attr-defined]
        invoice.status = invoice_transition(invoice.status, InvoiceEvent.VOID)
        for payment in (await db.scalars(select(Payment).where(
                Payment.invoice_id == invoice.id, Payment.status.in_(OPEN_PAYMENT)))).all():
            await store.enqueue(db, JobKind.EXPIRE_PAYMENT, {"trans_id": payment.trans_id},
                                now=rt.clock.now(),
                                dedupe_key=f"expire_payment:{payment.trans_id}")


# ---- the recurring job ------------------------------------------------------------------------


async def tick(rt: Runtime, limit: int = 500) -> str:
    """One pass over live plans and unpaid invoices."""
    async with rt.sessions() as db:
        plan_ids = list((await db.scalars(select(Plan.id).where(Plan.status.in_(LIVE))
                                          .order_by(Plan.id).limit(limit))).all())
    issued = reminded = paused = ended = 0
    for plan_id in plan_ids:
        async with rt.sessions.begin() as db:
            plan = (await db.scalars(select(Plan).where(Plan.id == plan_id)
                                     .with_for_update(skip_locked=True))).first()
            if plan is None or plan.status not in LIVE:
                continue
            if await _end_if_over(db, rt, plan):
                ended += 1
                continue
            fold_slots(plan, plan_calendar.tutor_today(plan, rt.clock.now()))
            r, p = await _chase(db, rt, plan)
            reminded, paused = reminded + r, paused + p
            if plan.status in RESERVING:
                issued += len(await issue_due(db, rt, plan))
                await _top_up(db, rt, plan)
    return (f"{len(plan_ids)} plans: {issued} invoices issued, {reminded} reminders, "
            f"{paused} paused unpaid, {ended} ended")


async def _end_if_over(db: AsyncSession, rt: Runtime, plan: Plan) -> bool:
    today = plan_calendar.tutor_today(plan, rt.clock.now())
    if plan.end_date is None or today <= plan.end_date:
        return False
    plan.status = plan_transition(plan.status, PlanEvent.END)
    await plan_calendar.release(db, plan)
    await void_unpaid(db, rt, plan, only_open=False)
    return True


async def _top_up(db: AsyncSession, rt: Runtime, plan: Plan) -> None:
    """Keep the reservation reaching the tutor's horizon as the days pass."""
    today = plan_calendar.tutor_today(plan, rt.clock.now())
    if plan.reserved_until is None or plan.reserved_until < today + timedelta(days=1):
        await plan_calendar.reserve(db, rt, plan, strict=False)
        return
    tutor = await db.get(Profile, plan.tutor_id)
    assert tutor is not None
    horizon = limits_for(rt, tutor).horizon.days
    if plan.reserved_until < today + timedelta(days=horizon):
        await plan_calendar.reserve(db, rt, plan, strict=False)


async def _chase(db: AsyncSession, rt: Runtime, plan: Plan) -> tuple[int, int]:
    """Remind the payer of unpaid invoices, mark them overdue, pause the plan past grace."""
    now = rt.clock.now()
    grace = timedelta(hours=rt.settings.plan_grace_hours)
    payer = await db.get(Profile, plan.payer_id)
    assert payer is not None
    reminded = paused = 0
    unpaid = (await db.scalars(select(Invoice).where(
        Invoice.plan_id == plan.id, Invoice.status.in_(PAYABLE))
        .order_by(Invoice.period_index).with_for_update())).all()
    for invoice in unpaid:
        for label in reminders_due(invoice.due_at, invoice.issued_at, now,
                                   frozenset(invoice.reminders_sent)):
            invoice.reminders_sent = [*invoice.reminders_sent, label]
            await plan_calendar.tell(db, rt, plan, "invoice_reminder", to=[plan.payer_id],
                             occasion=f"{invoice.id}:{label}", detail=_due_text(invoice, payer))
            reminded += 1
        if invoice.status is InvoiceStatus.OPEN and is_overdue(invoice.due_at, now):
            invoice.status = invoice_transition(invoice.status, InvoiceEvent.FALL_DUE)
        if past_grace(invoice.due_at, grace, now) and plan.status in RESERVING:
            await plan_calendar.pause_unpaid(db, rt, plan)
            paused += 1
    return reminded, paused


async def overdue(db: AsyncSession, limit: int = 200) -> list[Invoice]:
    """For operators: invoices past their due date, oldest first."""
    return list((await db.scalars(select(Invoice).where(
        Invoice.status == InvoiceStatus.OVERDUE).order_by(Invoice.due_at).limit(limit))).all())


async def invoices_of(db: AsyncSession, plan: Plan) -> list[Invoice]:
    return list((await db.scalars(select(Invoice).where(Invoice.plan_id == plan.id)
                                  .order_by(Invoice.period_index))).all())


def status_after_payment(plan: Plan) -> PlanStatus:
    return plan_transition(plan.status, PlanEvent.PAID)
