"""Rate limits as a pure rule: the generic cell rate algorithm (GCRA).

One timestamp per key — the "theoretical arrival time" (TAT) of the next request if they
came exactly at the allowed rate — is all the state there is, so the database keeps it in
one row per key and every process shares it. A request is admitted when the TAT is no more
than the burst ahead of now; admitting pushes the TAT one interval further. It is a token
bucket (`burst` tokens, one back every `interval`) without a counter to refill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from prepskul.domain.errors import DomainError


@dataclass(frozen=True)
class Rate:
    per_hour: int
    burst: int

    @property
    def interval(self) -> timedelta:
        return timedelta(hours=1) / self.per_hour


@dataclass(frozen=True)
class Admission:
    allowed: bool
    tat: datetime  # the state to keep for the next request
    retry_after: timedelta  # zero when allowed


def admit(tat: datetime | None, now: datetime, rate: Rate) -> Admission:
    """Admit one request or not. A refused request leaves the state as it was, so hammering
    does not push the next admission further away."""
    base = max(tat or now, now)
    new_tat = base + rate.interval
    earliest = new_tat - rate.interval * rate.burst  # when this request fits the burst
    if earliest > now:
        return Admission(False, base, earliest - now)
    return Admission(True, new_tat, timedelta(0))


class RateLimited(DomainError):
    """Too many requests: try again after `retry_after` seconds."""

    status = 429

    def __init__(self, code: str, message: str, retry_after: timedelta) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, math.ceil(retry_after.total_seconds()))


def booking_refused(admission: Admission) -> RateLimited:
    seconds = max(1, math.ceil(admission.retry_after.total_seconds()))
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return RateLimited(
        "too_many_booking_attempts",
        f"Too many booking attempts from your account; try again in {wait}.",
        admission.retry_after,
    )
