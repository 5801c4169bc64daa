"""The session state machine, exhaustively: every (status, event) pair is either one of the
legal transitions of DESIGN.md or refused with a clear error."""

from itertools import product

import pytest

from prepskul.domain.errors import IllegalTransition
from prepskul.domain.lifecycle import (
    TRANSITIONS,
    Event,
    Status,
    can,
    initial_status,
    transition,
)

LEGAL = {
    (Status.REQUESTED, Event.APPROVE): Status.AWAITING_PAYMENT,
    (Status.REQUESTED, Event.DECLINE): Status.DECLINED,
    (Status.REQUESTED, Event.CANCEL): Status.CANCELLED,
    (Status.REQUESTED, Event.EXPIRE): Status.EXPIRED,
    (Status.AWAITING_PAYMENT, Event.PAYMENT_CONFIRMED): Status.PAID,
    (Status.AWAITING_PAYMENT, Event.CANCEL): Status.CANCELLED,
    (Status.AWAITING_PAYMENT, Event.EXPIRE): Status.EXPIRED,
    (Status.EXPIRED, Event.LATE_PAYMENT): Status.PAID,
    (Status.PAID, Event.MEETING_CREATED): Status.SCHEDULED,
    (Status.PAID, Event.CANCEL): Status.CANCELLED,
    (Status.SCHEDULED, Event.CANCEL): Status.CANCELLED,
}
AFTER = (Status.COMPLETED, Status.TUTOR_NO_SHOW, Status.STUDENT_NO_SHOW, Status.DISPUTED,
         Status.UNRESOLVED)
# After its end a paid or scheduled lesson takes an outcome, which later evidence may revise
# until it is settled (settlement is recorded beside the status, not in it).
OUTCOME_OF = {Event.LESSON_HELD: Status.COMPLETED, Event.TUTOR_ABSENT: Status.TUTOR_NO_SHOW,
              Event.STUDENT_ABSENT: Status.STUDENT_NO_SHOW, Event.DISPUTE: Status.DISPUTED,
              Event.NO_EVIDENCE: Status.UNRESOLVED}
LEGAL |= {(start, event): target for start in (Status.PAID, Status.SCHEDULED, *AFTER)
          for event, target in OUTCOME_OF.items()}


@pytest.mark.parametrize(("status", "event"), list(product(Status, Event)))
def test_every_pair_is_either_legal_or_refused_with_a_reason(status: Status, event: Event) -> None:
    if (status, event) in LEGAL:
        assert transition(status, event) is LEGAL[(status, event)]
        assert can(status, event)
    else:
        with pytest.raises(IllegalTransition) as refused:
            transition(status, event)
        assert refused.value.code == "illegal_transition"
        assert event.value in refused.value.message
        assert not can(status, event)


def test_the_table_is_exactly_the_agreed_one() -> None:
    assert TRANSITIONS == LEGAL


# `completed` is no end any more: until its outcome is settled, later evidence may revise it
# (the outcome events above).
@pytest.mark.parametrize("end", [Status.DECLINED, Status.CANCELLED, Status.EXPIRED])
def test_ends_are_final_but_for_a_payment_already_under_way_when_a_hold_lapsed(
    end: Status,
) -> None:
    reopening = {Event.LATE_PAYMENT} if end is Status.EXPIRED else set()
    assert {event for event in Event if can(end, event)} == reopening


def test_requested_is_skipped_when_no_approval_is_needed() -> None:
    assert initial_status(needs_approval=True) is Status.REQUESTED
    assert initial_status(needs_approval=False) is Status.AWAITING_PAYMENT


def test_a_payment_cannot_jump_a_session_past_approval() -> None:
    with pytest.raises(IllegalTransition):
        transition(Status.REQUESTED, Event.PAYMENT_CONFIRMED)
