"""A plan's calendar: its terms per billing period, its lessons on the tutor's clock, whether
they are free, and their reservation in `time_holds` — what both the plan's life
(`services.plans`) and its billing (`services.plan_billing`) stand on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Invoice, Plan, Profile, TimeHold, TutoringSession
from prepskul.domain.availability import Interval, check_available
from prepskul.domain.errors import Conflict, DomainError, InvalidInput
from prepskul.domain.holds import HoldPurpose
from prepskul.domain.lifecycle import HOLDS_SLOT
from prepskul.domain.people import local_time_text
from prepskul.domain.plans import (
    Discounts,
    InvoiceStatus,
    Lesson,
    PlanEvent,
    Terms,
    WeeklySlot,
    lessons,
    period,
    period_index_on,
    plan_transition,
)
from prepskul.runtime import Runtime
from prepskul.services import holds, notifications
from prepskul.services.availability import availability_of, limits_for
from prepskul.services.messages import plan_detail
from prepskul.services.people import get_tutor


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


async def pause_unpaid(db: AsyncSession, rt: Runtime, plan: Plan) -> None:
    """An invoice stayed unpaid past its grace: the plan pauses, its times are released,
    both sides are told. Paying that invoice resumes it if its times are still free."""
    plan.status = plan_transition(plan.status, PlanEvent.LAPSE)
    plan.pause_reason = "unpaid"
    await release(db, plan)
    await tell(db, rt, plan, "plan_paused_unpaid", occasion=str(rt.clock.now().timestamp()))
