"""What happened at a lesson, decided from whatever evidence arrived. Pure.

Three witnesses, none of them complete: the join clicks (people may also join from their
calendar invite, so a missing click proves little), Fathom's speakers (a silent learner
says nothing), and the tutor's short report (an interested party). So presence is the
union of what they show, absence is what none of them shows, and the one contradiction we
can see — the tutor reports the learner absent while the learner joined or spoke — goes to
an operator as `disputed`. No evidence at all is not a guess either: `unresolved`, for an
operator. The people concerned then have a window to confirm or report a problem
(`confirm_deadline`); silence confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from prepskul.domain.errors import Conflict
from prepskul.domain.lifecycle import OUTCOMES, Event, Status


class Outcome(StrEnum):
    COMPLETED = Status.COMPLETED.value
    TUTOR_NO_SHOW = Status.TUTOR_NO_SHOW.value
    STUDENT_NO_SHOW = Status.STUDENT_NO_SHOW.value
    DISPUTED = Status.DISPUTED.value
    UNRESOLVED = Status.UNRESOLVED.value


# The lifecycle event that gives a session each outcome (the state machine's table, read
# the other way).
EVENT_FOR: dict[Outcome, Event] = {Outcome(status.value): event
                                   for event, status in OUTCOMES.items()}
# What an operator may decide, and what silence may settle: an outcome that says who was
# there. `disputed` and `unresolved` always wait for a person.
FINAL = frozenset({Outcome.COMPLETED, Outcome.TUTOR_NO_SHOW, Outcome.STUDENT_NO_SHOW})


class Mark(StrEnum):
    """One side's attendance, as PrepSkul's app shows it."""

    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"


class Side(StrEnum):
    TUTOR = "tutor"
    LEARNER = "learner"


class Settlement(StrEnum):
    """How an outcome became final."""

    CONFIRMED = "confirmed"
    SILENCE = "silence"
    OPERATOR = "operator"


@dataclass(frozen=True)
class JoinWindow:
    """The Join button works from `opens_before` the start until the end; a join later than
    `grace` after the start counts as a no-show for that side."""

    opens_before: timedelta
    grace: timedelta

    def check(self, now: datetime, starts_at: datetime, ends_at: datetime) -> None:
        if now < starts_at - self.opens_before:
            minutes = int(self.opens_before.total_seconds() // 60)
            raise Conflict("join_not_open",
                           f"The lesson can be joined from {minutes} minutes before its start.")
        if now > ends_at:
            raise Conflict("join_closed", "This lesson has ended.")

    def mark(self, joined_at: datetime | None, starts_at: datetime) -> Mark | None:
        """None: no click at all, which is no evidence either way."""
        if joined_at is None:
            return None
        if joined_at <= starts_at:
            return Mark.PRESENT
        return Mark.LATE if joined_at <= starts_at + self.grace else Mark.ABSENT


@dataclass(frozen=True)
class Spoken:
    """From the recording: whether each side was heard."""

    tutor: bool
    learner: bool


@dataclass(frozen=True)
class Evidence:
    tutor_join: Mark | None = None  # the first click's mark (JoinWindow.mark)
    learner_join: Mark | None = None
    spoken: Spoken | None = None  # None: no recording
    reported_learner_present: bool | None = None  # None: no report from the tutor

    @property
    def empty(self) -> bool:
        return (self.tutor_join is None and self.learner_join is None
                and self.spoken is None and self.reported_learner_present is None)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    tutor: Mark
    learner: Mark
    why: str

    @property
    def event(self) -> Event:
        return EVENT_FOR[self.outcome]


def _joined(mark: Mark | None) -> bool:
    return mark in (Mark.PRESENT, Mark.LATE)


def _mark(join: Mark | None, there: bool) -> Mark:
    if _joined(join):
        assert join is not None
        return join
    return Mark.PRESENT if there else Mark.ABSENT


def decide(e: Evidence) -> Verdict:
    spoke = e.spoken or Spoken(tutor=False, learner=False)
    # Filing a report is the tutor's own claim to have been there.
    tutor_there = _joined(e.tutor_join) or spoke.tutor or e.reported_learner_present is not None
    learner_seen = _joined(e.learner_join) or spoke.learner
    learner_there = learner_seen or bool(e.reported_learner_present)
    tutor, learner = _mark(e.tutor_join, tutor_there), _mark(e.learner_join, learner_there)
    if e.empty:
        return Verdict(Outcome.UNRESOLVED, tutor, learner, "no evidence at all")
    if e.reported_learner_present is False and learner_seen:
        return Verdict(Outcome.DISPUTED, tutor, learner,
                       "the tutor reports the learner absent, but the learner joined or spoke")
    if tutor_there and learner_there:
        return Verdict(Outcome.COMPLETED, tutor, learner, "both sides were there")
    if tutor_there:
        return Verdict(Outcome.STUDENT_NO_SHOW, tutor, learner, "only the tutor was there")
    if learner_there:
        return Verdict(Outcome.TUTOR_NO_SHOW, tutor, learner, "only the learner was there")
    return Verdict(Outcome.UNRESOLVED, tutor, learner, "neither side was there in time")


def confirm_deadline(decided_at: datetime, window: timedelta) -> datetime:
    """Until when the people concerned may confirm or report a problem; silence confirms."""
    return decided_at + window


def report_window_open(now: datetime, starts_at: datetime, ends_at: datetime,
                       window: timedelta) -> None:
    """The tutor reports once the lesson has started and until `window` after its end."""
    if now < starts_at:
        raise Conflict("report_too_early", "The lesson report opens when the lesson starts.")
    if now > ends_at + window:
        hours = int(window.total_seconds() // 3600)
        raise Conflict("report_window_closed",
                       f"Lesson reports close {hours} hours after the lesson; "
                       "write to the operators instead.")
