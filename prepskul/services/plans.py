"""Plans: propose, approve or decline, pause, resume, change slots, end. The rules are
`domain.plans`'s; a plan's lessons and their reservation in `time_holds` are
`services.plan_calendar`'s; invoices and their payment are `services.plan_billing`'s and
`services.plan_payments`'s."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ParentLink, Plan, Profile, TutoringSession
from prepskul.domain.availability import wall_to_utc
from prepskul.domain.booking import check_subject, resolve_student
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from prepskul.domain.lifecycle import AWAITING_LESSON
from prepskul.domain.people import Role
from prepskul.domain.plans import (
    LIVE,
    MAX_LENGTH,
    RESERVING,
    PlanEvent,
    PlanStatus,
    WeeklySlot,
    check_dates,
    check_slots,
    frequency,
    lessons,
    period,
    plan_transition,
)
from prepskul.domain.pricing import Kind, price_xaf
from prepskul.domain.throttle import booking_refused
from prepskul.domain.tutors import check_taking_bookings
from prepskul.runtime import Runtime
from prepskul.services import booking, money, notifications, plan_billing, throttle
from prepskul.services.booking import booking_rate, trial_prices
from prepskul.services.people import children_of, get_tutor
from prepskul.services.plan_calendar import (
    check_free,
    describe,
    lessons_between,
    release,
    reserve,
    slots_of,
    slots_record,
    tell,
    terms_of,
    tutor_today,
)


@dataclass(frozen=True)
class PlanRequest:
    tutor_id: uuid.UUID
    subject: str
    slots: list[WeeklySlot]
    frequency: str
    starts_on: date
    ends_on: date | None = None
    student_id: uuid.UUID | None = None


# ---- who sees and acts ------------------------------------------------------------------------


def plans_visible_to(person: Profile) -> ColumnElement[bool]:
    if person.role == Role.ADMIN:
        return true()
    children = select(ParentLink.student_id).where(ParentLink.parent_id == person.id,
                                                   ParentLink.active())
    return or_(Plan.tutor_id == person.id, Plan.student_id == person.id,
               Plan.payer_id == person.id, Plan.student_id.in_(children))


async def plan_for(db: AsyncSession, person: Profile, plan_id: uuid.UUID, *,
                   lock: bool = False) -> Plan:
    """The plan if the caller may see it; 404 otherwise, so ids reveal nothing."""
    query = select(Plan).where(Plan.id == plan_id, plans_visible_to(person))
    found = (await db.scalars(query.with_for_update() if lock else query)).first()
    if found is None:
        raise NotFound("plan_not_found", "There is no plan with that id that you can see.")
    return found


def _require_tutor(person: Profile, plan: Plan) -> None:
    if person.role != Role.ADMIN and person.id != plan.tutor_id:
        raise NotAllowed("tutor_only", "Only the plan's tutor can do this.")


def _require_payer(person: Profile, plan: Plan) -> None:
    if person.role != Role.ADMIN and person.id != plan.payer_id:
        raise NotAllowed("payer_only", "Only whoever proposed and pays for the plan can do this.")


# ---- the plan's life --------------------------------------------------------------------------


async def propose(db: AsyncSession, rt: Runtime, payer: Profile, req: PlanRequest) -> Plan:
    """A student (for themself) or a parent (for a child) proposes a plan to a tutor. Every
    check runs before anything is written: a refusal changes nothing."""
    admission = await throttle.spend(rt, f"book:{payer.id}", booking_rate(rt))
    if not admission.allowed:
        raise booking_refused(admission)
    tutor = await get_tutor(db, req.tutor_id)
    check_taking_bookings(tutor.tutor_status)
    children = await children_of(db, payer.id) if payer.role == Role.PARENT else set()
    student_id = resolve_student(str(payer.id), payer.role,
                                 str(req.student_id) if req.student_id else None, children)
    subject = check_subject(req.subject, tutor.subjects)
    slots = check_slots(req.slots)
    freq = frequency(req.frequency)
    now = rt.clock.now()
    check_dates(req.starts_on, req.ends_on, now.astimezone(ZoneInfo(tutor.time_zone)).date())
    unit = price_xaf(Kind.REGULAR, slots[0].minutes, tutor.hourly_rate_xaf, trial_prices(rt))
    plan = Plan(
        id=uuid.uuid4(), tutor_id=tutor.id, student_id=uuid.UUID(student_id),
        payer_id=payer.id, subject=subject, slots=slots_record(slots),
        tutor_zone=tutor.time_zone, payer_zone=payer.time_zone, frequency=freq,
        start_date=req.starts_on, end_date=req.ends_on, status=PlanStatus.PROPOSED,
        unit_price_xaf=unit, policy=money.policy_from(rt.settings).as_record())
    found = await check_free(db, rt, tutor, plan)
    db.add(plan)
    await db.flush()
    await notifications.notify_about_plan(
        db, rt, [tutor.id], plan.id, "plan_proposed", plan.subject,
        detail=lambda person: describe(person, found))
    return plan


def _move(plan: Plan, event: PlanEvent) -> None:
    plan.status = plan_transition(plan.status, event)


async def approve(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID) -> Plan:
    """The tutor accepts: the plan's lessons are reserved (all of them, or a clear refusal if
    one was booked meanwhile) and the first invoice is issued."""

    plan = await plan_for(db, actor, plan_id, lock=True)
    _require_tutor(actor, plan)
    _move(plan, PlanEvent.APPROVE)
    await check_free(db, rt, await get_tutor(db, plan.tutor_id), plan)
    if not await reserve(db, rt, plan, strict=True):
        raise Conflict("slot_taken", "One of the plan's times was booked meanwhile; the "
                       "plan needs other times.")
    await tell(db, rt, plan, "plan_approved", to=[plan.payer_id, plan.student_id])
    await plan_billing.issue_due(db, rt, plan)
    return plan


async def decline(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID,
                  reason: str) -> Plan:
    plan = await plan_for(db, actor, plan_id, lock=True)
    _require_tutor(actor, plan)
    if not reason.strip():
        raise InvalidInput("reason_required", "Tell the family why you decline.")
    _move(plan, PlanEvent.DECLINE)
    plan.decline_reason = reason.strip()
    await tell(db, rt, plan, "plan_declined", to=[plan.payer_id, plan.student_id],
               detail=plan.decline_reason)
    return plan


async def pause(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID) -> Plan:
    """The payer pauses: reserved times are released and invoices not yet due are void.
    Lessons already paid for stay booked."""

    plan = await plan_for(db, actor, plan_id, lock=True)
    _require_payer(actor, plan)
    _move(plan, PlanEvent.PAUSE)
    plan.pause_reason = "paused_by_payer"
    await release(db, plan)
    await plan_billing.void_unpaid(db, rt, plan, only_open=True)
    await tell(db, rt, plan, "plan_paused", occasion=str(rt.clock.now().timestamp()))
    return plan


async def resume(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID) -> Plan:
    """The payer resumes a plan they paused (one paused for an unpaid invoice resumes by
    paying it): its times are reserved again, all or none."""

    plan = await plan_for(db, actor, plan_id, lock=True)
    _require_payer(actor, plan)
    if plan.pause_reason == "unpaid" and plan.status is PlanStatus.PAUSED:
        raise Conflict("invoice_unpaid", "Pay the overdue invoice to resume this plan.")
    _move(plan, PlanEvent.RESUME)
    await check_free(db, rt, await get_tutor(db, plan.tutor_id), plan)
    if not await reserve(db, rt, plan, strict=True):
        raise Conflict("slot_taken", "One of the plan's times was booked while it was "
                       "paused; change its times to resume it.")
    plan.pause_reason = None
    await tell(db, rt, plan, "plan_resumed", occasion=str(rt.clock.now().timestamp()))
    await plan_billing.issue_due(db, rt, plan)
    return plan


async def change_slots(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID,
                       slots: list[WeeklySlot]) -> Plan:
    """New weekly times from the next billing period not yet invoiced: those lessons are
    checked and reserved now (all or none), the old ones from then on released."""

    plan = await plan_for(db, actor, plan_id, lock=True)
    _require_payer(actor, plan)
    if plan.status not in LIVE:
        raise Conflict("plan_not_live", f"A {plan.status.value} plan's times cannot change.")
    checked = check_slots(slots)
    index = await plan_billing.next_period_index(db, plan)
    if plan.next_slots_from is not None and plan.next_slots_from < index:
        raise Conflict("change_pending", "The plan's times already change from a coming "
                       "period; wait until that change takes effect.")
    if checked[0].minutes != slots_of(plan.slots)[0].minutes:
        raise InvalidInput("mixed_lengths", "New times keep the plan's lesson length.")
    p = period(terms_of(plan, index), index)
    if p is None:
        raise Conflict("plan_ending", "The plan has no period left to change.")
    plan.next_slots, plan.next_slots_from = slots_record(checked), index
    tutor = await get_tutor(db, plan.tutor_id)
    if plan.status in RESERVING:
        boundary = min((x.starts_at for x in lessons(terms_of(plan, index), p.first, p.after)),
                       default=None)
        await release(db, plan, from_=boundary or rt.clock.now())
        await check_free(db, rt, tutor, plan, first=p.first)
        if not await reserve(db, rt, plan, strict=True):
            raise Conflict("slot_taken", "One of the new times is taken; pick others.")
    await tell(db, rt, plan, "plan_changed", occasion=str(rt.clock.now().timestamp()),
               detail=f"new times from {p.first.isoformat()}")
    return plan


async def end(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID,
              ends_on: date | None) -> Plan:
    """End the plan after `ends_on` (default: now). Reserved times after it are released,
    invoices for periods after it void, and lessons already paid for after it are cancelled
    as if the one ending the plan cancelled each: the cancellation policy the plan recorded
    decides what is refunded to credit and what the tutor keeps."""

    plan = await plan_for(db, actor, plan_id, lock=True)
    if actor.role != Role.ADMIN and actor.id not in (plan.payer_id, plan.tutor_id):
        raise NotAllowed("not_a_party", "Only the payer or the tutor can end a plan.")
    now = rt.clock.now()
    today = tutor_today(plan, now)
    if ends_on is not None and ends_on < today:
        raise InvalidInput("end_in_past", "A plan ends today or later.")
    if ends_on is not None and (ends_on > today + MAX_LENGTH
                                or (plan.end_date is not None and ends_on > plan.end_date)):
        raise InvalidInput("end_after_plan", "A plan can end sooner, not later.")
    if ends_on is None or ends_on == today or plan.status is PlanStatus.PROPOSED:
        _move(plan, PlanEvent.END)
        await release(db, plan)
        await plan_billing.void_unpaid(db, rt, plan, only_open=False)
        plan.end_date = min(plan.end_date or today, today)
        await _cancel_paid_after(db, rt, actor, plan, now)
    else:
        plan_transition(plan.status, PlanEvent.END)  # refused now if it could not end then
        plan.end_date = ends_on
        after = min((x.starts_at for x in lessons_between(plan, ends_on + timedelta(days=1),
                                                          ends_on + timedelta(days=8))),
                    default=None)
        await release(db, plan, from_=after or now)
        await plan_billing.void_after(db, rt, plan, ends_on)
        await _cancel_paid_after(db, rt, actor, plan, wall_to_utc(
            ends_on + timedelta(days=1), 0, ZoneInfo(plan.tutor_zone)))
    await tell(db, rt, plan, "plan_ended", occasion=str(now.timestamp()),
               detail=f"last day {plan.end_date.isoformat()}")
    return plan


async def _cancel_paid_after(db: AsyncSession, rt: Runtime, actor: Profile, plan: Plan,
                             boundary: datetime) -> None:
    found = (await db.scalars(select(TutoringSession.id).where(
        TutoringSession.plan_id == plan.id, TutoringSession.status.in_(AWAITING_LESSON),
        TutoringSession.starts_at >= boundary).order_by(TutoringSession.starts_at))).all()
    for session_id in found:
        await booking.cancel(db, rt, actor, session_id, "plan ended")


async def list_plans(db: AsyncSession, viewer: Profile, *, status: PlanStatus | None = None,
                     limit: int = 100) -> list[Plan]:
    query = select(Plan).where(plans_visible_to(viewer))
    if status is not None:
        query = query.where(Plan.status == status)
    return list((await db.scalars(query.order_by(Plan.created_at.desc()).limit(limit))).all())

