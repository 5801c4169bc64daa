"""Payouts: money sent out to a phone through Fapshi — a tutor's withdrawal, or a refund to
mobile money. Pure: the state machine and what may be asked.

requested → approved → sending → sent → succeeded | failed, or requested → rejected.
`sending` is written *before* Fapshi is called, so a worker killed mid-call leaves a payout
that the next attempt first looks up at Fapshi (by its externalId) instead of sending
twice."""

from __future__ import annotations

from enum import StrEnum

from prepskul.domain.errors import IllegalTransition, InvalidInput
from prepskul.domain.phone import normalise_phone


class PayoutStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


class Purpose(StrEnum):
    EARNINGS = "earnings"  # a tutor's withdrawal
    REFUND = "refund"  # a payer's credit or an owed refund, back to their phone


OPEN = frozenset({PayoutStatus.REQUESTED, PayoutStatus.APPROVED, PayoutStatus.SENDING,
                  PayoutStatus.SENT})
ENDED = frozenset({PayoutStatus.SUCCEEDED, PayoutStatus.FAILED, PayoutStatus.REJECTED})

_NEXT: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    PayoutStatus.REQUESTED: frozenset({PayoutStatus.APPROVED, PayoutStatus.REJECTED}),
    PayoutStatus.APPROVED: frozenset({PayoutStatus.SENDING}),
    PayoutStatus.SENDING: frozenset({PayoutStatus.SENT, PayoutStatus.FAILED,
                                     PayoutStatus.SUCCEEDED}),
    PayoutStatus.SENT: frozenset({PayoutStatus.SUCCEEDED, PayoutStatus.FAILED}),
}


def advance(current: PayoutStatus, to: PayoutStatus) -> PayoutStatus:
    if to not in _NEXT.get(current, frozenset()):
        raise IllegalTransition("illegal_payout_transition",
                                f"A payout that is {current.value} cannot become {to.value}.")
    return to


def check_withdrawal(amount: int, available: int, minimum: int, phone: str) -> str:
    """The number to pay, normalised; or a refusal a tutor can act on."""
    if amount < minimum:
        raise InvalidInput("below_minimum",
                           f"Withdrawals start at {minimum:,} XAF; you asked for {amount:,}.")
    if amount > available:
        raise InvalidInput("insufficient_balance",
                           f"You can withdraw up to {available:,} XAF right now.")
    return normalise_phone(phone)


def needs_approval(amount: int, auto_approve_below: int) -> bool:
    """Small payouts may go out without an operator (setting; 0 means every one waits)."""
    return amount >= auto_approve_below
