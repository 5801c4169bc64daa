"""Moves by agreement: once a lesson is paid, its time is a promise between a tutor and a
learner, so neither may move it alone. One party proposes a new slot; the other accepts or
declines within a window; until then the old slot stays and the proposed one is held
tentatively (a `time_holds` row of purpose `move`), so nobody else can book it meanwhile.
An operator moves a session directly, and so may the booker of a session nobody has paid
for yet (no promise has been made: the tutor's published hours are their consent, as for a
booking).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from prepskul.domain.errors import Conflict, IllegalTransition, NotAllowed
from prepskul.domain.holds import TENTATIVE
from prepskul.domain.lifecycle import RESCHEDULABLE, Status


class Side(StrEnum):
    """The two parties to a lesson: its tutor, and the learner's side (the student, whoever
    booked, the student's parents)."""

    TUTOR = "tutor"
    LEARNER = "learner"


class ProposalState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass(frozen=True)
class MoveRules:
    answer_window: timedelta = timedelta(hours=48)


def needs_agreement(status: Status) -> bool:
    """A session with a firm hold (paid) moves only by agreement; a tentative one directly."""
    return status not in TENTATIVE


def check_direct_move(status: Status, *, operator: bool) -> None:
    check_movable(status)
    if needs_agreement(status) and not operator:
        raise Conflict(
            "move_needs_agreement",
            "A paid session moves only by agreement: propose a new time and the other"
            " party accepts it.",
        )


def check_movable(status: Status) -> None:
    if status not in RESCHEDULABLE:
        raise IllegalTransition(
            "cannot_reschedule",
            f"A session that is {status.value.replace('_', ' ')} cannot move.",
        )


def check_no_pending(pending: bool) -> None:
    if pending:
        raise Conflict(
            "proposal_pending",
            "A move of this session is already awaiting an answer; wait for it, or ask the"
            " other party to decline it first.",
        )


def answer_by(now: datetime, current_start: datetime, proposed_start: datetime,
              rules: MoveRules) -> datetime:
    """When an unanswered proposal lapses: after the window, and never after either slot
    starts (an answer after the lesson began, or after the new time passed, means nothing)."""
    return min(now + rules.answer_window, current_start, proposed_start)


def check_answerer(proposer: Side, answerer: Side | None) -> None:
    """Only the other party answers a proposal (an operator moves sessions directly)."""
    if answerer is None or answerer is proposer:
        raise NotAllowed(
            "not_your_answer", "Only the other party to the session can answer this proposal.")


def check_pending(state: ProposalState, expires_at: datetime, now: datetime) -> None:
    """A proposal is answerable while pending and within its window, even before the sweep
    marks it expired."""
    if state is not ProposalState.PENDING or expires_at <= now:
        shown = ProposalState.EXPIRED if state is ProposalState.PENDING else state
        raise Conflict("proposal_closed",
                       f"This proposal is {shown.value}; it can no longer be answered.")
