"""Payment rules that need no I/O: what a confirmed transaction may do to a session, and
how often to ask Fapshi about an open one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from prepskul.domain.errors import InvalidInput
from prepskul.domain.lifecycle import Status


class PaymentMethod(StrEnum):
    LINK = "link"  # a hosted checkout page
    DIRECT = "direct"  # a prompt on the payer's phone


def payment_method(value: str) -> PaymentMethod:
    """Refuse a method we do not offer before anything is asked of Fapshi or stored."""
    try:
        return PaymentMethod(value)
    except ValueError:
        raise InvalidInput("invalid_payment_method",
                           "Pay with 'link' (a checkout page) or 'direct' (a phone prompt)."
                           ) from None


class PaymentStatus(StrEnum):
    """A payment's status is only ever what Fapshi's payment-status API said: these are
    Fapshi's own words, kept as they are."""

    CREATED = "CREATED"
    PENDING = "PENDING"
    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


# Statuses in which a payment can still be paid: one such attempt per session at a time.
OPEN_PAYMENT = frozenset({PaymentStatus.CREATED, PaymentStatus.PENDING})


@dataclass(frozen=True)
class Verdict:
    """What to do with a SUCCESSFUL transaction: confirm the session, or flag it. `late`:
    the session expired meanwhile, so confirming it first needs its time back — if another
    booking took it, the money is a refund owed (`LATE_SLOT_TAKEN`)."""

    confirm: bool
    flag: str | None = None
    detail: str | None = None
    late: bool = False


LATE_SLOT_TAKEN = Verdict(False, "refund_owed",
                          "paid after its hold lapsed, and the time was booked meanwhile")


def judge_match(*, expected_amount: int, paid_amount: int, expected_external_id: str,
                external_id: str | None, what: str) -> Verdict | None:
    """A transaction for something else, or of another amount, than what it was opened for
    (`what`: session or invoice) is flagged whatever the state of its object; None: it
    matches."""
    if external_id is not None and external_id != expected_external_id:
        return Verdict(False, f"wrong_{what}",
                       f"paid for externalId {external_id}, recorded for {expected_external_id}")
    if paid_amount != expected_amount:
        return Verdict(False, "amount_mismatch",
                       f"paid {paid_amount} XAF, the {what} costs {expected_amount} XAF")
    return None


def judge_success(
    *, session_status: Status, expected_amount: int, paid_amount: int,
    expected_external_id: str, external_id: str | None,
    starts_at: datetime, now: datetime,
) -> Verdict:
    mismatch = judge_match(expected_amount=expected_amount, paid_amount=paid_amount,
                           expected_external_id=expected_external_id, external_id=external_id,
                           what="session")
    if mismatch is not None:
        return mismatch
    if session_status is Status.AWAITING_PAYMENT:
        return Verdict(True)
    if session_status in (Status.PAID, Status.SCHEDULED, Status.COMPLETED):
        return Verdict(False, "refund_owed", "the session was already paid")
    if session_status is Status.EXPIRED and now < starts_at:
        # The payer did pay for that lesson, which has not begun: book it if the time is
        # still free rather than send the money back.
        return Verdict(True, late=True)
    # Money for a session that was cancelled, declined or expired meanwhile: never
    # resurrect it silently; an operator refunds (or rebooks with the family).
    return Verdict(False, "refund_owed", f"paid after the session was {session_status.value}")


def next_check_delay(age: timedelta, checks: int, cap: timedelta) -> timedelta:
    """Reconciliation backs off as a transaction ages, but while a checkout link can still be
    paid (24 h) never waits longer than `cap`, which bounds how late a lost webhook is
    noticed."""
    if age > timedelta(hours=25):
        return timedelta(hours=6)
    grown: timedelta = timedelta(seconds=30) * 2 ** min(checks, 10)
    return min(cap, grown)


def expires_session(session_status: Status, until_start: timedelta, min_notice: timedelta) -> bool:
    """An expired checkout closes the session too when there is no longer time to pay."""
    return session_status is Status.AWAITING_PAYMENT and until_start < min_notice
