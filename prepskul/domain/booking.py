"""Booking rules: when, how long, with whom, for whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed
from prepskul.domain.people import Role
from prepskul.domain.pricing import Kind

MIN_MINUTES = 30
MAX_MINUTES = 180


@dataclass(frozen=True)
class BookingRules:
    min_notice: timedelta = timedelta(hours=2)
    max_ahead: timedelta = timedelta(days=120)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def check_slot(starts_at: datetime, minutes: int, now: datetime, rules: BookingRules) -> Slot:
    """A slot that starts late enough, not too far ahead, and lasts 30–180 minutes."""
    if starts_at.tzinfo is None:
        raise InvalidInput(
            "naive_time",
            "Give the start time with its offset or zone, e.g. 2026-03-02T10:00:00+01:00.",
        )
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InvalidInput(
            "invalid_duration",
            f"A session lasts between {MIN_MINUTES} and {MAX_MINUTES} minutes, not {minutes}.",
        )
    # Work in UTC instants: Python adds a timedelta to a zoned time on the wall clock, which
    # across a daylight-saving change would make a "60-minute" lesson last 0 or 120.
    starts_at = starts_at.astimezone(UTC)
    if starts_at < now + rules.min_notice:
        hours = rules.min_notice.total_seconds() / 3600
        raise InvalidInput(
            "too_soon", f"Sessions must be booked at least {hours:g} hours before they start."
        )
    if starts_at > now + rules.max_ahead:
        raise InvalidInput(
            "too_far_ahead",
            f"Sessions can be booked at most {rules.max_ahead.days} days ahead.",
        )
    return Slot(starts_at, starts_at + timedelta(minutes=minutes))


def check_subject(subject: str, tutor_subjects: list[str]) -> str:
    wanted = subject.strip().casefold()
    for taught in tutor_subjects:
        if taught.casefold() == wanted:
            return taught
    offered = ", ".join(tutor_subjects) or "nothing yet"
    raise InvalidInput("subject_not_taught", f"This tutor teaches {offered}, not '{subject}'.")


def slot_taken() -> Conflict:
    return Conflict("slot_taken", "The tutor already has a session at that time; pick another.")


BOOKERS = frozenset({Role.STUDENT, Role.PARENT})  # who books; tutors and operators do not


def resolve_student(
    booker_id: str, booker_role: Role, student_id: str | None, children: set[str]
) -> str:
    """Who the session is for: a student books for themself, a parent for a linked child."""
    if booker_role is Role.STUDENT:
        if student_id not in (None, booker_id):
            raise NotAllowed("not_your_child", "A student can only book sessions for themself.")
        return booker_id
    if booker_role is Role.PARENT:
        if student_id is None:
            raise InvalidInput("student_required", "Say which of your children this is for.")
        if student_id not in children:
            raise NotAllowed("not_your_child", "You can only book for a child linked to you.")
        return student_id
    raise NotAllowed("cannot_book", "Only students and parents book sessions.")


def needs_approval(kind: Kind, tutor_requires_approval: bool) -> bool:
    """Trials always wait for the tutor; regular sessions only if the tutor asked for it."""
    return kind is Kind.TRIAL or tutor_requires_approval
