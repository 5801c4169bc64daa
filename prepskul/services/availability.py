"""A tutor's hours and the slots they leave: load them, replace them, check a booking
against them. The rules are `domain.availability`'s; this module only reads and writes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import AvailabilityException, Profile, TimeHold, WeeklyWindow
from prepskul.domain.availability import (
    MAX_RANGE,
    Availability,
    DateException,
    Interval,
    Limits,
    Window,
    check_available,
    check_exceptions,
    check_limits,
    check_weekly,
    slot_starts,
)
from prepskul.domain.booking import BookingRules, Slot, check_slot
from prepskul.domain.errors import InvalidInput
from prepskul.domain.people import check_time_zone
from prepskul.domain.tutors import check_taking_bookings
from prepskul.runtime import Runtime

DEFAULT_RANGE = timedelta(days=14)


@dataclass(frozen=True)
class TutorLimits:
    """A tutor's own settings; None falls back to the service's default."""

    buffer_minutes: int | None = None
    min_notice_minutes: int | None = None
    horizon_days: int | None = None

    def resolved(self, rt: Runtime) -> Limits:
        d = rt.settings
        return check_limits(
            d.booking_buffer_minutes if self.buffer_minutes is None else self.buffer_minutes,
            d.booking_min_notice_minutes if self.min_notice_minutes is None
            else self.min_notice_minutes,
            d.booking_horizon_days if self.horizon_days is None else self.horizon_days)


def limits_for(rt: Runtime, tutor: Profile) -> Limits:
    return TutorLimits(tutor.buffer_minutes, tutor.min_notice_minutes,
                       tutor.horizon_days).resolved(rt)


async def availability_of(db: AsyncSession, rt: Runtime, tutor: Profile) -> Availability:
    windows = (await db.scalars(
        select(WeeklyWindow).where(WeeklyWindow.tutor_id == tutor.id))).all()
    exceptions = (await db.scalars(
        select(AvailabilityException).where(AvailabilityException.tutor_id == tutor.id))).all()
    return Availability(
        time_zone=tutor.time_zone,
        weekly=tuple(Window(w.weekday, w.start_minute, w.end_minute) for w in windows),
        exceptions=tuple(DateException(x.on_date, x.available, x.start_minute, x.end_minute)
                         for x in exceptions),
        limits=limits_for(rt, tutor),
    )


async def has_hours(db: AsyncSession, tutor_id: uuid.UUID) -> bool:
    found = await db.scalar(select(func.count()).select_from(WeeklyWindow)
                            .where(WeeklyWindow.tutor_id == tutor_id))
    return bool(found)


async def replace(
    db: AsyncSession, rt: Runtime, tutor: Profile, weekly: list[Window],
    exceptions: list[DateException], settings: TutorLimits, time_zone: str | None = None,
) -> Availability:
    """The whole schedule at once, checked before anything is written: a refusal leaves
    the old one as it was."""
    checked_weekly = check_weekly(weekly)
    checked_exceptions = check_exceptions(exceptions)
    zone = check_time_zone(time_zone) if time_zone else tutor.time_zone
    settings.resolved(rt)
    await db.execute(delete(WeeklyWindow).where(WeeklyWindow.tutor_id == tutor.id))
    await db.execute(delete(AvailabilityException)
                     .where(AvailabilityException.tutor_id == tutor.id))
    db.add_all([WeeklyWindow(tutor_id=tutor.id, weekday=w.weekday, start_minute=w.start,
                             end_minute=w.end) for w in checked_weekly])
    db.add_all([AvailabilityException(tutor_id=tutor.id, on_date=x.on, available=x.available,
                                      start_minute=x.start, end_minute=x.end)
                for x in checked_exceptions])
    tutor.time_zone = zone
    tutor.buffer_minutes = settings.buffer_minutes
    tutor.min_notice_minutes = settings.min_notice_minutes
    tutor.horizon_days = settings.horizon_days
    await db.flush()
    return await availability_of(db, rt, tutor)


async def held_time(
    db: AsyncSession, tutor_id: uuid.UUID, start: datetime, end: datetime,
    *, now: datetime, ignore: uuid.UUID | None = None,
) -> list[Interval]:
    """The tutor's time already held between `start` and `end` — every row the exclusion
    constraint guards in `time_holds` (sessions now; proposals and reservations will add
    theirs), less tentative holds that have lapsed: those give way to a booking even
    before the sweep expires them (`ignore`: a session being moved does not block itself)."""
    query = select(TimeHold.starts_at, TimeHold.ends_at).where(
        TimeHold.tutor_id == tutor_id,
        TimeHold.starts_at < end, TimeHold.ends_at > start,
        or_(TimeHold.expires_at.is_(None), TimeHold.expires_at > now),
    )
    if ignore is not None:
        query = query.where(or_(TimeHold.session_id.is_(None), TimeHold.session_id != ignore))
    return [(s, e) for s, e in (await db.execute(query)).all()]


async def slots(
    db: AsyncSession, rt: Runtime, tutor: Profile, start: datetime | None,
    end: datetime | None, minutes: int,
) -> list[datetime]:
    """Bookable start times in [start, end) (default: from now, for 14 days)."""
    now = rt.clock.now()
    start = max(start or now, now)  # the past is never bookable; nor is the far future
    if start > now + MAX_RANGE:
        return []
    end = end or start + DEFAULT_RANGE
    if end <= start:
        raise InvalidInput("invalid_range", "'to' must be after 'from' (and after now).")
    if end - start > MAX_RANGE:
        raise InvalidInput("range_too_long",
                           f"Ask for at most {MAX_RANGE.days} days of slots at a time.")
    av = await availability_of(db, rt, tutor)
    pad = av.limits.buffer + timedelta(minutes=minutes)
    held = await held_time(db, tutor.id, start - pad, end + pad, now=now)
    return slot_starts(av, held, now=now, start=start.astimezone(UTC),
                       end=end.astimezone(UTC), minutes=minutes)


async def check_booking(
    db: AsyncSession, rt: Runtime, tutor: Profile, starts_at: datetime, minutes: int,
    *, ignore: uuid.UUID | None = None,
) -> Slot:
    """The lesson's slot if the tutor takes bookings and is free then: notice, horizon,
    hours and buffers. Two bookings racing for one slot both pass here; the exclusion
    constraint then lets one commit."""
    check_taking_bookings(tutor.tutor_status)
    av = await availability_of(db, rt, tutor)
    slot = check_slot(starts_at, minutes, rt.clock.now(),
                      BookingRules(min_notice=av.limits.min_notice, max_ahead=av.limits.horizon))
    pad = av.limits.buffer
    held = await held_time(db, tutor.id, slot.starts_at - pad, slot.ends_at + pad,
                           now=rt.clock.now(), ignore=ignore)
    check_available(av, held, slot.starts_at, slot.ends_at)
    return slot
