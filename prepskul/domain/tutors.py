"""A tutor's public profile and whether they can be booked.

A tutor is `pending` until an operator approves them, `approved` (bookable) after, and
`suspended` when an operator stops them taking bookings; approving again reinstates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from prepskul.domain.errors import Conflict, IllegalTransition, InvalidInput

MIN_RATE_XAF = 1000
MAX_RATE_XAF = 100_000
MAX_SUBJECTS = 12
MAX_BIO = 2000
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


class TutorStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class TutorEvent(StrEnum):
    APPROVE = "approve"
    SUSPEND = "suspend"


class Level(StrEnum):
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"
    UPPER_SECONDARY = "upper_secondary"
    UNIVERSITY = "university"
    ADULT = "adult"


_MOVES = {
    (TutorStatus.PENDING, TutorEvent.APPROVE): TutorStatus.APPROVED,
    (TutorStatus.SUSPENDED, TutorEvent.APPROVE): TutorStatus.APPROVED,
    (TutorStatus.PENDING, TutorEvent.SUSPEND): TutorStatus.SUSPENDED,
    (TutorStatus.APPROVED, TutorEvent.SUSPEND): TutorStatus.SUSPENDED,
}


def tutor_transition(status: TutorStatus, event: TutorEvent) -> TutorStatus:
    try:
        return _MOVES[(status, event)]
    except KeyError:
        raise IllegalTransition(
            f"cannot_{event.value}", f"A tutor who is {status.value} cannot be {event.value}d."
        ) from None


@dataclass(frozen=True)
class TutorProfile:
    """What an operator needs before approving: something to teach, to whom, at what rate,
    and some hours."""

    subjects: tuple[str, ...]
    levels: tuple[Level, ...]
    hourly_rate_xaf: int | None
    has_hours: bool


def missing_for_approval(profile: TutorProfile) -> list[str]:
    checks = {"subjects": bool(profile.subjects), "levels": bool(profile.levels),
              "hourly rate": profile.hourly_rate_xaf is not None,
              "weekly hours": profile.has_hours}
    return [name for name, present in checks.items() if not present]


def check_ready_for_approval(profile: TutorProfile) -> None:
    missing = missing_for_approval(profile)
    if missing:
        raise Conflict("profile_incomplete",
                       f"The tutor's profile still needs: {', '.join(missing)}.")


def check_taking_bookings(status: TutorStatus) -> None:
    if status is not TutorStatus.APPROVED:
        raise Conflict("tutor_not_bookable", "This tutor is not taking bookings.")


def check_subjects(subjects: list[str]) -> list[str]:
    """Trimmed, duplicates (in any case) dropped, 1–60 characters each, at most 12."""
    kept: dict[str, str] = {}
    for subject in subjects:
        name = " ".join(subject.split())
        if not 1 <= len(name) <= 60:
            raise InvalidInput("invalid_subject", "A subject is 1 to 60 characters.")
        kept.setdefault(name.casefold(), name)
    if len(kept) > MAX_SUBJECTS:
        raise InvalidInput("too_many_subjects", f"Teach at most {MAX_SUBJECTS} subjects.")
    return list(kept.values())


def check_levels(levels: list[str]) -> list[str]:
    known = {level.value for level in Level}
    unknown = [level for level in levels if level not in known]
    if unknown:
        raise InvalidInput("invalid_level", f"Unknown level '{unknown[0]}': choose from "
                           f"{', '.join(level.value for level in Level)}.")
    return [level.value for level in Level if level.value in levels]


def check_languages(languages: list[str]) -> list[str]:
    """Two-letter ISO 639-1 codes ("fr", "en"), lower case."""
    codes = list(dict.fromkeys(code.strip().lower() for code in languages))
    bad = [code for code in codes if not LANGUAGE_CODE.match(code)]
    if bad:
        raise InvalidInput("invalid_language", f"'{bad[0]}' is not a two-letter language "
                           "code such as 'fr' or 'en'.")
    return codes


def check_rate(rate: int) -> int:
    if not MIN_RATE_XAF <= rate <= MAX_RATE_XAF:
        raise InvalidInput("invalid_rate", f"An hourly rate is between {MIN_RATE_XAF:,} and "
                           f"{MAX_RATE_XAF:,} XAF.")
    return rate


def check_bio(bio: str) -> str:
    bio = bio.strip()
    if len(bio) > MAX_BIO:
        raise InvalidInput("invalid_bio", f"A bio is at most {MAX_BIO} characters.")
    return bio
