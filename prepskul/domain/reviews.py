"""Review rules. Pure."""

from __future__ import annotations

from prepskul.domain.errors import InvalidInput

# A tutor's average is shown from this many visible reviews: one or two say little.
MIN_REVIEWS_SHOWN = 3


def check_rating(rating: int) -> int:
    if not 1 <= rating <= 5:
        raise InvalidInput("invalid_rating", "Rate the lesson from 1 to 5.")
    return rating


def shown_rating(total: int, count: int) -> tuple[float, int] | None:
    """(average to one decimal, count), or None below `MIN_REVIEWS_SHOWN`."""
    if count < MIN_REVIEWS_SHOWN:
        return None
    return round(total / count, 1), count
