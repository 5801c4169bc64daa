"""What a session costs, in whole XAF (Fapshi takes integers, at least 100)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from prepskul.domain.errors import InvalidInput

FAPSHI_MINIMUM_XAF = 100


class Kind(StrEnum):
    TRIAL = "trial"
    REGULAR = "regular"


@dataclass(frozen=True)
class TrialPrices:
    """Trials have fixed prices by length, the same for every tutor."""

    by_minutes: dict[int, int]

    @classmethod
    def default(cls) -> TrialPrices:
        return cls({30: 2000, 60: 3500})


def price_xaf(kind: Kind, minutes: int, hourly_rate_xaf: int | None, trials: TrialPrices) -> int:
    if kind is Kind.TRIAL:
        if minutes not in trials.by_minutes:
            lengths = " or ".join(str(m) for m in sorted(trials.by_minutes))
            raise InvalidInput("invalid_duration", f"A trial session lasts {lengths} minutes.")
        return trials.by_minutes[minutes]
    if not hourly_rate_xaf:
        raise InvalidInput("tutor_has_no_rate", "This tutor has not set an hourly rate yet.")
    # Rounded up: a fraction of a franc is never left unpaid, and never charged twice.
    return max(FAPSHI_MINIMUM_XAF, math.ceil(hourly_rate_xaf * minutes / 60))


def sibling_price_xaf(price: int, kind: Kind, percent: int, other_children_this_month: int
                      ) -> int:
    """A parent's second (and further) child's regular sessions in a month cost `percent`
    less: the discount is rounded down, so the charge rounds up, and never falls below what
    Fapshi accepts. The first child of the month, and trials (fixed prices), pay in full."""
    if kind is not Kind.REGULAR or other_children_this_month < 1 or percent <= 0:
        return price
    return max(FAPSHI_MINIMUM_XAF, price - price * percent // 100)
