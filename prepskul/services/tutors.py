"""Tutor profiles: the tutor edits theirs, an operator approves or suspends it, students
find the bookable ones."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Payment, Profile, TutoringSession
from prepskul.domain.availability import Availability, DateException, Window
from prepskul.domain.errors import InvalidInput, NotAllowed
from prepskul.domain.lifecycle import AWAITING_LESSON, Status
from prepskul.domain.people import Role, check_time_zone
from prepskul.domain.tutors import (
    Level,
    TutorEvent,
    TutorProfile,
    TutorStatus,
    check_bio,
    check_languages,
    check_levels,
    check_rate,
    check_ready_for_approval,
    check_subjects,
    tutor_transition,
)
from prepskul.runtime import Runtime
from prepskul.services import availability, booking, feed, notifications
from prepskul.services.availability import TutorLimits, has_hours
from prepskul.services.people import get_tutor

# Released when a tutor is suspended: nothing was paid, so nothing is owed.
UNPAID = (Status.REQUESTED, Status.AWAITING_PAYMENT)

CHECKS: dict[str, Callable[[Any], Any]] = {
    "subjects": check_subjects, "levels": check_levels, "teaching_languages": check_languages,
    "hourly_rate_xaf": check_rate, "bio": check_bio, "time_zone": check_time_zone,
    "requires_approval": bool,
}


def require_tutor(person: Profile) -> None:
    if person.role != Role.TUTOR:
        raise NotAllowed("tutors_only", "Only tutors have a tutor profile.")


async def update_profile(
    db: AsyncSession, rt: Runtime, tutor: Profile, changes: dict[str, Any]
) -> Profile:
    """Change what was sent, every field checked before any is written."""
    require_tutor(tutor)
    checked = {}
    for key, value in changes.items():
        if value is None:
            raise InvalidInput("value_required", f"{key} cannot be empty.")
        checked[key] = CHECKS[key](value)
    for key, value in checked.items():
        setattr(tutor, key, value)
    if checked:
        await _changed(db, rt, tutor)
    return tutor


async def replace_hours(
    db: AsyncSession, rt: Runtime, tutor: Profile, weekly: list[Window],
    exceptions: list[DateException], limits: TutorLimits, time_zone: str | None,
) -> Availability:
    require_tutor(tutor)
    found = await availability.replace(db, rt, tutor, weekly, exceptions, limits, time_zone)
    await _changed(db, rt, tutor)
    return found


async def _changed(db: AsyncSession, rt: Runtime, tutor: Profile) -> None:
    """Operators hear of changes to a profile they have yet to approve (once a minute at
    most: a tutor filling in a form saves often)."""
    await db.flush()
    if tutor.tutor_status is TutorStatus.PENDING:
        await notifications.notify_about_tutor(
            db, rt, await notifications.operators(db), tutor, "tutor_review",
            occasion=rt.clock.now().strftime("%Y%m%d%H%M"))
    _record(db, tutor, "tutor.updated")


def _record(db: AsyncSession, tutor: Profile, type_: str, by: Profile | None = None) -> None:
    """The change on the feed (the tutor sees it live; operators see all), naming the
    operator who made it: the change log is the audit trail of approvals and suspensions."""
    data = {"tutor_id": str(tutor.id), "status": tutor.tutor_status.value}
    if by is not None:
        data["by"] = str(by.id)
    feed.record_private(db, type_, [tutor.id], data)


async def profile_facts(db: AsyncSession, tutor: Profile) -> TutorProfile:
    return TutorProfile(subjects=tuple(tutor.subjects),
                        levels=tuple(Level(level) for level in tutor.levels),
                        hourly_rate_xaf=tutor.hourly_rate_xaf,
                        has_hours=await has_hours(db, tutor.id))


async def approve(
    db: AsyncSession, rt: Runtime, operator: Profile, tutor_id: uuid.UUID
) -> Profile:
    tutor = await get_tutor(db, tutor_id, lock=True)
    check_ready_for_approval(await profile_facts(db, tutor))
    tutor.tutor_status = tutor_transition(tutor.tutor_status, TutorEvent.APPROVE)
    tutor.tutor_status_reason = None
    _record(db, tutor, "tutor.approved", by=operator)
    await notifications.notify_about_tutor(db, rt, [tutor], tutor, "tutor_approved",
                                           occasion=rt.clock.now().isoformat())
    return tutor


async def suspend(
    db: AsyncSession, rt: Runtime, operator: Profile, tutor_id: uuid.UUID, reason: str
) -> Profile:
    """No new bookings; future unpaid ones are released (cancelled, their checkout links
    expired) and paid ones are flagged for an operator to settle with the families."""
    if not reason.strip():
        raise InvalidInput("reason_required", "Say why the tutor is suspended.")
    tutor = await get_tutor(db, tutor_id, lock=True)
    tutor.tutor_status = tutor_transition(tutor.tutor_status, TutorEvent.SUSPEND)
    tutor.tutor_status_reason = reason.strip()
    now = rt.clock.now()
    future = (await db.scalars(select(TutoringSession).where(
        TutoringSession.tutor_id == tutor.id, TutoringSession.starts_at > now,
        TutoringSession.status.in_((*UNPAID, *AWAITING_LESSON))))).all()
    for session in future:
        if session.status in UNPAID:
            await booking.cancel(db, rt, operator, session.id, "The tutor is suspended.")
        else:
            await db.execute(
                update(Payment)
                .where(Payment.session_id == session.id, Payment.status == "SUCCESSFUL",
                       Payment.flag.is_(None))
                .values(flag="tutor_suspended",
                        flag_detail="paid session with a suspended tutor"))
    _record(db, tutor, "tutor.suspended", by=operator)
    await notifications.notify_about_tutor(
        db, rt, [tutor], tutor, "tutor_suspended", occasion=now.isoformat(),
        reason=tutor.tutor_status_reason)
    return tutor


@dataclass(frozen=True)
class TutorFilter:
    subject: str | None = None
    level: str | None = None
    language: str | None = None
    min_rate: int | None = None
    max_rate: int | None = None


def _cursor(tutor: Profile) -> str:
    return base64.urlsafe_b64encode(f"{tutor.full_name}\x00{tutor.id}".encode()).decode()


def _after(cursor: str) -> tuple[str, uuid.UUID]:
    try:
        name, tid = base64.urlsafe_b64decode(cursor.encode()).decode().split("\x00")
        return name, uuid.UUID(tid)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_cursor", "That page cursor is not one we gave out.") from None


async def bookable(
    db: AsyncSession, wanted: TutorFilter, *, cursor: str | None, limit: int
) -> tuple[list[Profile], str | None]:
    """Approved tutors matching every filter given, by name, a page at a time."""
    query = select(Profile).where(Profile.role == Role.TUTOR,
                                  Profile.tutor_status == TutorStatus.APPROVED)
    if wanted.subject:
        taught = func.unnest(Profile.subjects).table_valued("s").render_derived()
        query = query.where(select(taught.c.s).where(
            func.lower(taught.c.s) == wanted.subject.strip().lower()).exists())
    if wanted.level:
        query = query.where(Profile.levels.contains(check_levels([wanted.level])))
    if wanted.language:
        query = query.where(
            Profile.teaching_languages.contains(check_languages([wanted.language])))
    if wanted.min_rate is not None:
        query = query.where(Profile.hourly_rate_xaf >= wanted.min_rate)
    if wanted.max_rate is not None:
        query = query.where(Profile.hourly_rate_xaf <= wanted.max_rate)
    if cursor:
        name, tid = _after(cursor)
        query = query.where(or_(Profile.full_name > name,
                                and_(Profile.full_name == name, Profile.id > tid)))
    rows = list((await db.scalars(query.order_by(Profile.full_name, Profile.id)
                                  .limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, _cursor(rows[-1]) if more else None


async def for_operators(db: AsyncSession, status: TutorStatus | None) -> list[Profile]:
    query = select(Profile).where(Profile.role == Role.TUTOR)
    if status is not None:
        query = query.where(Profile.tutor_status == status)
    return list((await db.scalars(query.order_by(Profile.created_at))).all())
