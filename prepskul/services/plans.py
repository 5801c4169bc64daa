"""Plans: propose, approve or decline, pause, resume, change slots, end — and the
reservation of a plan's future lessons in `time_holds`. The rules are `domain.plans`'s;
invoices and their payment are `services.plan_billing`'s and `services.plan_payments`'s."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Invoice, ParentLink, Plan, Profile, TimeHold, TutoringSession
from prepskul.domain.availability import Interval, check_available, wall_to_utc
from prepskul.domain.booking import check_subject, resolve_student
from prepskul.domain.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from prepskul.domain.holds import HoldPurpose
from prepskul.domain.lifecycle import AWAITING_LESSON, HOLDS_SLOT
from prepskul.domain.people import Role, local_time_text
from prepskul.domain.plans import (
    LIVE,
    MAX_LENGTH,
    RESERVING,
    Discounts,
    InvoiceStatus,
    Lesson,
    PlanEvent,
    PlanStatus,
    Terms,
    WeeklySlot,
    check_dates,
    check_slots,
    frequency,
    lessons,
    period,
    period_index_on,
    plan_transition,
)
from prepskul.domain.pricing import Kind, price_xaf
from prepskul.domain.throttle import booking_refused
from prepskul.domain.tutors import check_taking_bookings
from prepskul.runtime import Runtime
from prepskul.services import booking, holds, money, notifications, throttle
from prepskul.services.availability import availability_of, limits_for
from prepskul.services.booking import booking_rate, trial_prices
from prepskul.services.messages import plan_detail
from prepskul.services.people import children_of, get_tutor


@dataclass(frozen=True)
class PlanRequest:
    tutor_id: uuid.UUID
    subject: str
    slots: list[WeeklySlot]
    frequency: str
    starts_on: date
    ends_on: date | None = None
    student_id: uuid.UUID | None = None


def discounts(rt: Runtime) -> Discounts:
    s = rt.settings
    return Discounts(s.plan_discount_monthly_percent, s.plan_discount_biweekly_percent,
                     s.plan_discount_weekly_percent)


def slots_record(slots: Sequence[WeeklySlot]) -> list[dict[str, int]]:
    return [{"weekday": s.weekday, "start": s.start, "minutes": s.minutes} for s in slots]


def slots_of(record: list[dict[str, int]]) -> tuple[WeeklySlot, ...]:
    return tuple(WeeklySlot(r["weekday"], r["start"], r["minutes"]) for r in record)


def terms_of(plan: Plan, index: int = 0) -> Terms:
    """The plan's terms for billing period `index`: a change of slots applies from the
    period it was made for."""
    changed = plan.next_slots is not None and plan.next_slots_from is not None \
        and index >= plan.next_slots_from
    record = plan.next_slots if changed and plan.next_slots is not None else plan.slots
    return Terms(plan.tutor_zone, slots_of(record), plan.frequency, plan.start_date,
                 plan.end_date)


def lessons_between(plan: Plan, first: date, after: date) -> list[Lesson]:
    """The plan's lessons on the tutor's local dates [first, after), each period by the
    slots in force for it."""
    found: list[Lesson] = []
    index = max(0, period_index_on(terms_of(plan), first))
    while (p := period(terms_of(plan, index), index)) is not None and p.first < after:
        found += lessons(terms_of(plan, index), max(p.first, first), min(p.after, after))
        index += 1
    return found


def tutor_today(plan: Plan, now: datetime) -> date:
    return now.astimezone(ZoneInfo(plan.tutor_zone)).date()


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


def people_of(plan: Plan) -> list[uuid.UUID]:
    return list(dict.fromkeys([plan.tutor_id, plan.payer_id, plan.student_id]))


async def tell(db: AsyncSession, rt: Runtime, plan: Plan, kind: str, *,
               to: Sequence[uuid.UUID] | None = None, occasion: str = "",
               detail: str = "") -> None:
    await notifications.notify_about_plan(
        db, rt, to if to is not None else people_of(plan), plan.id, kind, plan.subject,
        occasion=occasion, detail=lambda _person: detail)


def describe(person: Profile, lessons_: list[Lesson]) -> str:
    return plan_detail("lessons", person.language, n=len(lessons_), zone=person.time_zone,
                       when=lessons_[0].starts_at if lessons_ else None)


# ---- free time --------------------------------------------------------------------------------


async def _held_by_others(db: AsyncSession, plan: Plan, start: datetime, end: datetime,
                          now: datetime) -> list[Interval]:
    """The tutor's held time in [start, end), less the plan's own reservations and lessons."""
    own_sessions = select(TutoringSession.id).where(TutoringSession.plan_id == plan.id)
    rows = await db.execute(select(TimeHold.starts_at, TimeHold.ends_at).where(
        TimeHold.tutor_id == plan.tutor_id, TimeHold.starts_at < end, TimeHold.ends_at > start,
        or_(TimeHold.expires_at.is_(None), TimeHold.expires_at > now),
        or_(TimeHold.plan_id.is_(None), TimeHold.plan_id != plan.id),
        or_(TimeHold.session_id.is_(None), TimeHold.session_id.not_in(own_sessions)),
    ))
    return [(s, e) for s, e in rows.all()]


async def future_lessons(db: AsyncSession, plan: Plan, first: date, after: date,
                         not_before: datetime) -> list[Lesson]:
    """The plan's lessons on dates [first, after) starting after `not_before`, less those
    of a period whose invoice was void (a pause skips that period: it is not invoiced
    again, so its times stay the tutor's)."""
    skipped = set((await db.scalars(select(Invoice.period_index).where(
        Invoice.plan_id == plan.id, Invoice.status == InvoiceStatus.VOID))).all())
    zone = ZoneInfo(plan.tutor_zone)
    return [x for x in lessons_between(plan, first, after)
            if x.starts_at > not_before and period_index_on(
                terms_of(plan), x.starts_at.astimezone(zone).date()) not in skipped]


async def check_free(db: AsyncSession, rt: Runtime, tutor: Profile, plan: Plan,
                     first: date | None = None) -> list[Lesson]:
    """Every lesson of the plan from `first` (default: today) to the tutor's booking
    horizon must lie in the tutor's hours and clear of anyone else's time: a conflict is
    found now, naming the lesson, not when the invoice is paid. Lessons sooner than the
    tutor's minimum notice are not part of the plan's future."""
    av = await availability_of(db, rt, tutor)
    now = rt.clock.now()
    today = tutor_today(plan, now)
    until = today + timedelta(days=av.limits.horizon.days)
    found = await future_lessons(db, plan, max(first or today, today), until,
                                 now + av.limits.min_notice)
    if not found:
        raise InvalidInput("no_lessons", "These dates and times hold no lesson within the "
                           "tutor's booking horizon.")
    pad = av.limits.buffer
    held = await _held_by_others(db, plan, found[0].starts_at - pad,
                                 found[-1].ends_at + pad, now)
    for lesson in found:
        try:
            check_available(av, held, lesson.starts_at, lesson.ends_at)
        except DomainError as refused:
            when = local_time_text(lesson.starts_at, plan.tutor_zone, "en")
            raise Conflict(refused.code, f"{refused.message} (the lesson of {when}, "
                           f"{plan.tutor_zone})") from None
    return found


async def reserve(db: AsyncSession, rt: Runtime, plan: Plan, *, strict: bool) -> bool:
    """Reserve the plan's lessons from now to the tutor's horizon, skipping those already
    reserved or booked, and those of a skipped period (`future_lessons`). `strict`: all or none
    (False when one is taken; nothing written); otherwise each lesson on its own, a taken
    one left out (the horizon moved onto a slot someone booked first)."""
    tutor = await get_tutor(db, plan.tutor_id)
    limits = limits_for(rt, tutor)
    now = rt.clock.now()
    today = tutor_today(plan, now)
    until = today + timedelta(days=limits.horizon.days)
    wanted = await future_lessons(db, plan, today, until + timedelta(days=1), now)
    have = set((await db.scalars(select(TimeHold.starts_at).where(
        TimeHold.plan_id == plan.id, TimeHold.purpose == HoldPurpose.PLAN))).all())
    have |= set((await db.scalars(select(TutoringSession.starts_at).where(
        TutoringSession.plan_id == plan.id, TutoringSession.status.in_(HOLDS_SLOT)))).all())
    rows = [TimeHold(tutor_id=plan.tutor_id, purpose=HoldPurpose.PLAN, plan_id=plan.id,
                     starts_at=x.starts_at, ends_at=x.ends_at)
            for x in wanted if x.starts_at not in have]
    plan.reserved_until = until
    if strict:
        return await holds.claim(db, lambda: db.add_all(rows))
    for row in rows:
        await holds.claim(db, lambda row=row: db.add(row))  # type: ignore[misc]
    return True


async def release(db: AsyncSession, plan: Plan, *, from_: datetime | None = None) -> None:
    """Give the tutor back the plan's reserved lessons (from `from_` on)."""
    query = delete(TimeHold).where(TimeHold.plan_id == plan.id,
                                   TimeHold.purpose == HoldPurpose.PLAN)
    if from_ is not None:
        query = query.where(TimeHold.starts_at >= from_)
    await db.execute(query)
    if from_ is None:
        plan.reserved_until = None


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
    from prepskul.services import plan_billing  # billing issues invoices for plans

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
    from prepskul.services import plan_billing

    plan = await plan_for(db, actor, plan_id, lock=True)
    _require_payer(actor, plan)
    _move(plan, PlanEvent.PAUSE)
    plan.pause_reason = "paused_by_payer"
    await release(db, plan)
    await plan_billing.void_unpaid(db, rt, plan, only_open=True)
    await tell(db, rt, plan, "plan_paused", occasion=str(rt.clock.now().timestamp()))
    return plan


async def pause_unpaid(db: AsyncSession, rt: Runtime, plan: Plan) -> None:
    """An invoice stayed unpaid past its grace: the plan pauses, its times are released,
    both sides are told. Paying that invoice resumes it if its times are still free."""
    _move(plan, PlanEvent.LAPSE)
    plan.pause_reason = "unpaid"
    await release(db, plan)
    await tell(db, rt, plan, "plan_paused_unpaid", occasion=str(rt.clock.now().timestamp()))


async def resume(db: AsyncSession, rt: Runtime, actor: Profile, plan_id: uuid.UUID) -> Plan:
    """The payer resumes a plan they paused (one paused for an unpaid invoice resumes by
    paying it): its times are reserved again, all or none."""
    from prepskul.services import plan_billing

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
    from prepskul.services import plan_billing

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
    from prepskul.services import plan_billing

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

