"""The cancellation policy: who keeps what of a session's price when it is cancelled, when
someone does not show up, or when it happens. Pure.

A policy is recorded on each booking when it is made (`Policy.as_record()`), so a later
change of the settings never rewrites what an existing booking promised. Shares are in
basis points (1/100 of a percent) so 85 % of a 50 % late fee (42.5 %) stays exact; amounts
are rounded so the payer never loses a fraction of a franc and the parts add up to the
paid amount exactly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from enum import StrEnum
from typing import Any

from prepskul.domain.pricing import Kind

WHOLE = 10_000  # basis points


class Party(StrEnum):
    """Who cancelled: the family (student, parent, payer), the tutor, or an operator."""

    FAMILY = "family"
    TUTOR = "tutor"
    OPERATOR = "operator"


class Outcome(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    TUTOR_NO_SHOW = "tutor_no_show"
    STUDENT_NO_SHOW = "student_no_show"


@dataclass(frozen=True)
class Policy:
    version: int = 1
    commission_percent: int = 15
    trial_commission_percent: int = 15
    free_cancel_hours: int = 24
    late_refund_percent: int = 50
    trial_free_cancel_hours: int = 4
    trial_late_refund_percent: int = 50

    def __post_init__(self) -> None:
        for name in ("commission_percent", "trial_commission_percent", "late_refund_percent",
                     "trial_late_refund_percent"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name} is a percentage (0-100)")

    def as_record(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Policy:
        """The policy a booking recorded; bookings made before policies existed get the
        first version's defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (record or {}).items() if k in known})

    def commission(self, kind: Kind) -> int:
        return self.trial_commission_percent if kind is Kind.TRIAL else self.commission_percent

    def free_window(self, kind: Kind) -> timedelta:
        hours = self.trial_free_cancel_hours if kind is Kind.TRIAL else self.free_cancel_hours
        return timedelta(hours=hours)

    def late_refund(self, kind: Kind) -> int:
        return (self.trial_late_refund_percent if kind is Kind.TRIAL
                else self.late_refund_percent)


@dataclass(frozen=True)
class Shares:
    """Parts of what was paid, in basis points: back to the payer, to the tutor, kept."""

    refund: int
    tutor: int
    platform: int
    reason: str

    def __post_init__(self) -> None:
        if min(self.refund, self.tutor, self.platform) < 0 or (
                self.refund + self.tutor + self.platform != WHOLE):
            raise ValueError("shares are non-negative and make a whole")


@dataclass(frozen=True)
class Split:
    """`Shares` applied to an amount in XAF."""

    refund: int
    tutor: int
    platform: int
    reason: str

    @property
    def total(self) -> int:
        return self.refund + self.tutor + self.platform


def _earned(policy: Policy, kind: Kind, refund_bp: int, reason: str) -> Shares:
    """What is not refunded is a lesson earned: the tutor's share after commission."""
    earned = WHOLE - refund_bp
    tutor = earned * (100 - policy.commission(kind)) // 100
    return Shares(refund_bp, tutor, earned - tutor, reason)


def shares(
    policy: Policy, *, kind: Kind, outcome: Outcome, by: Party | None = None,
    notice: timedelta = timedelta(0),
) -> Shares:
    """The policy's table. `notice` is how long before the start a cancellation came."""
    if outcome in (Outcome.COMPLETED, Outcome.STUDENT_NO_SHOW):
        return _earned(policy, kind, 0, f"lesson {outcome.value.replace('_', ' ')}")
    if outcome is Outcome.TUTOR_NO_SHOW:
        return Shares(WHOLE, 0, 0, "the tutor did not show up: full refund")
    if by is Party.TUTOR:
        return Shares(WHOLE, 0, 0, "cancelled by the tutor: full refund")
    if by is Party.OPERATOR:
        return Shares(WHOLE, 0, 0, "cancelled by PrepSkul: full refund")
    window = policy.free_window(kind)
    if notice >= window:
        hours = int(window.total_seconds() // 3600)
        return Shares(WHOLE, 0, 0, f"cancelled {hours} h or more before the start: full refund")
    if notice > timedelta(0):
        percent = policy.late_refund(kind)
        return _earned(policy, kind, percent * 100,
                       f"late cancellation: {percent} % refunded, the rest pays the tutor")
    return _earned(policy, kind, 0, "cancelled after the start: counted as a lesson missed")


def split(amount: int, s: Shares) -> Split:
    """Refund rounded up, tutor rounded down, the platform the remainder (never negative:
    ceil(a) + floor(b) <= ceil(a + b) <= amount)."""
    refund = -(-amount * s.refund // WHOLE)
    tutor = amount * s.tutor // WHOLE
    return Split(refund, tutor, amount - refund - tutor, s.reason)
