"""How long a booking may hold a tutor's time before it is paid or approved, and how many
such tentative holds one booker may keep open.

A session that nobody has paid for yet still blocks the tutor's calendar: without a bound,
one new account could book a month of a tutor's time and never pay (it happened: 239
three-hour sessions in ten seconds). So every tentative hold carries an expiry — the payment
window from the moment the session can be paid, the approval window from the moment the
tutor is asked — and a booker may keep only a few of them open at once. Paid time holds for
good (no expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from prepskul.domain.errors import Conflict
from prepskul.domain.lifecycle import Status


class HoldPurpose(StrEnum):
    """What a row of held tutor time belongs to: a session's own slot, or the slot a move
    of it proposes (`domain.moves`), or a plan's future lesson (`domain.plans`): one table,
    so one exclusion constraint keeps all of them apart."""

    SESSION = "session"
    MOVE = "move"
    PLAN = "plan"


class Lapse(StrEnum):
    """Why a tentative hold ended: the notification each one sends."""

    PAYMENT = "hold_lapsed"  # awaiting payment too long
    APPROVAL = "request_lapsed"  # the tutor did not answer in time


@dataclass(frozen=True)
class HoldRules:
    payment_window: timedelta = timedelta(minutes=30)
    approval_window: timedelta = timedelta(hours=48)
    approval_reminder: timedelta = timedelta(hours=12)  # before a request lapses
    max_open_unpaid: int = 3


# Statuses whose hold is tentative: they lapse when their window closes.
TENTATIVE = frozenset({Status.REQUESTED, Status.AWAITING_PAYMENT})


def hold_until(status: Status, now: datetime, starts_at: datetime, rules: HoldRules
               ) -> datetime | None:
    """When the hold of a session entering `status` at `now` lapses; None: it never does.

    Never later than the start itself: an unpaid session must not outlive its own slot."""
    if status is Status.AWAITING_PAYMENT:
        return min(now + rules.payment_window, starts_at)
    if status is Status.REQUESTED:
        return min(now + rules.approval_window, starts_at)
    return None


def lapse_reason(status: Status) -> Lapse:
    return Lapse.APPROVAL if status is Status.REQUESTED else Lapse.PAYMENT


def is_lapsed(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


def check_open_unpaid(open_count: int, rules: HoldRules) -> None:
    """A booker with `max_open_unpaid` bookings awaiting payment or approval must settle one
    (pay, or cancel) before holding more of anyone's time."""
    if open_count >= rules.max_open_unpaid:
        raise Conflict(
            "too_many_unpaid_bookings",
            f"You already have {open_count} bookings awaiting payment or approval (at most "
            f"{rules.max_open_unpaid}); pay for or cancel one before booking another.",
        )


def check_hold(expires_at: datetime | None, now: datetime) -> None:
    """A booking whose hold ran out can no longer be approved, paid or moved — even before
    the sweep has expired it."""
    if is_lapsed(expires_at, now):
        raise Conflict(
            "hold_lapsed",
            "This booking no longer holds the tutor's time (it waited too long for payment or"
            " approval); book again.",
        )
