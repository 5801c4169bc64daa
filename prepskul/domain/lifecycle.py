"""The session state machine of DESIGN.md.

requested → awaiting_payment → paid → scheduled → completed, with declined, cancelled and
expired as ends. After the lesson its outcome is the status: `completed`, `tutor_no_show`,
`student_no_show`, `disputed`, or `unresolved` (no evidence at all: an operator decides).
Until the outcome is settled (confirmed, silence, or an operator) later evidence may revise
it, so these five move among themselves; whether it is settled lives beside the status
(`domain/outcome.py`). Every transition is a pure function of (status, event); anything
else is refused with `IllegalTransition`.

One way back from an end: a session that expired because its unpaid hold lapsed can still
be paid by a payment already under way (a phone prompt answered late, a checkout link paid
before Fapshi closed it). `LATE_PAYMENT` books it when its time is still free —
`domain.payments.judge_success` decides when that may be tried, the database whether the
time is free.
"""

from __future__ import annotations

from enum import StrEnum

from prepskul.domain.errors import IllegalTransition


class Status(StrEnum):
    REQUESTED = "requested"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    TUTOR_NO_SHOW = "tutor_no_show"
    STUDENT_NO_SHOW = "student_no_show"
    DISPUTED = "disputed"
    UNRESOLVED = "unresolved"


class Event(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    PAYMENT_CONFIRMED = "payment_confirmed"
    MEETING_CREATED = "meeting_created"
    # The outcome of the lesson, decided from its evidence (domain/outcome.py).
    LESSON_HELD = "lesson_held"
    TUTOR_ABSENT = "tutor_absent"
    STUDENT_ABSENT = "student_absent"
    DISPUTE = "dispute"
    NO_EVIDENCE = "no_evidence"
    CANCEL = "cancel"
    EXPIRE = "expire"
    LATE_PAYMENT = "late_payment"


class MeetState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"  # the session ended and its Calendar event was deleted


class RecordingState(StrEnum):
    AWAITING = "awaiting"
    READY = "ready"
    MISSING = "missing"


TERMINAL = frozenset({Status.DECLINED, Status.CANCELLED, Status.EXPIRED})

# What each outcome event makes of a session.
OUTCOMES: dict[Event, Status] = {
    Event.LESSON_HELD: Status.COMPLETED,
    Event.TUTOR_ABSENT: Status.TUTOR_NO_SHOW,
    Event.STUDENT_ABSENT: Status.STUDENT_NO_SHOW,
    Event.DISPUTE: Status.DISPUTED,
    Event.NO_EVIDENCE: Status.UNRESOLVED,
}
# A lesson's outcome, once it has one (settled or not).
AFTER_LESSON = frozenset(OUTCOMES.values())
# Sessions whose outcome can be decided: a paid one (its Meet link may have been fixed by
# hand), a scheduled one, or one already decided but not yet settled.
DECIDABLE = frozenset({Status.PAID, Status.SCHEDULED, *AFTER_LESSON})

# Paid for, the lesson still ahead: the Meet link matters, reminders go out, a cancel owes
# money back.
AWAITING_LESSON = frozenset({Status.PAID, Status.SCHEDULED})
# The lesson is still ahead, paid or not yet: the session page offers its Join button (and
# live updates remove it once the session leaves this set).
LESSON_AHEAD = frozenset({Status.AWAITING_PAYMENT, *AWAITING_LESSON})

# Statuses that hold the tutor's time: the database's exclusion constraint uses the same set.
HOLDS_SLOT = frozenset(
    {Status.REQUESTED, Status.AWAITING_PAYMENT, Status.PAID, Status.SCHEDULED, Status.COMPLETED}
)

TRANSITIONS: dict[tuple[Status, Event], Status] = {
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
    **{(status, event): outcome for status in DECIDABLE for event, outcome in OUTCOMES.items()},
}

RESCHEDULABLE = frozenset(
    {Status.REQUESTED, Status.AWAITING_PAYMENT, Status.PAID, Status.SCHEDULED}
)


def transition(status: Status, event: Event) -> Status:
    """The status after `event`, or `IllegalTransition` naming both."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(
            "illegal_transition",
            f"A session that is {status.value.replace('_', ' ')} cannot take '{event.value}'.",
        ) from None


def can(status: Status, event: Event) -> bool:
    return (status, event) in TRANSITIONS


def initial_status(needs_approval: bool) -> Status:
    """`requested` is skipped when the tutor does not require approval."""
    return Status.REQUESTED if needs_approval else Status.AWAITING_PAYMENT
