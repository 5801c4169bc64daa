"""When a tutor can be booked: weekly windows on the tutor's wall clock, dated exceptions,
a buffer around held sessions, minimum notice and a booking horizon.

Everything is computed over UTC instants. A weekly window is wall-clock time in the tutor's
zone, so "Mondays 09:00–12:00" in Paris is 08:00–11:00 UTC in winter and 07:00–10:00 UTC in
summer; each date's windows are converted on their own date, which is what makes the
result right across daylight-saving changes in either the tutor's or the viewer's zone (the
viewer only ever sees UTC instants converted at the edge).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from prepskul.domain.errors import Conflict, InvalidInput

MINUTES_PER_DAY = 24 * 60
# Bookable start times are offered on this grid, counted from each window's start.
SLOT_STEP = timedelta(minutes=30)
# The longest range one slots request may cover: a little over the longest horizon.
MAX_RANGE = timedelta(days=200)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

Interval = tuple[datetime, datetime]  # [start, end) in UTC


@dataclass(frozen=True)
class Window:
    """Weekly hours: `weekday` 0 = Monday; minutes after local midnight, `end` ≤ 24:00."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class DateException:
    """One date that differs from the week: a day off (`available` False, no hours), some
    hours off (`available` False with hours), or extra hours (`available` True)."""

    on: date
    available: bool
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Limits:
    buffer: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(hours=2)
    horizon: timedelta = timedelta(days=120)


@dataclass(frozen=True)
class Availability:
    time_zone: str
    weekly: tuple[Window, ...]
    exceptions: tuple[DateException, ...] = ()
    limits: Limits = Limits()


# ---- reading and checking what a tutor sends ------------------------------------------------


def parse_clock(text: str) -> int:
    """"HH:MM" → minutes after midnight; "24:00" is the end of the day."""
    match = CLOCK.match(text.strip())
    minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not 0 <= minutes <= MINUTES_PER_DAY:
        raise InvalidInput("invalid_time", f"'{text}' is not a time of day such as 09:30.")
    return minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_hours(start: int, end: int, where: str) -> None:
    if not 0 <= start < MINUTES_PER_DAY or not 0 < end <= MINUTES_PER_DAY:
        raise InvalidInput("invalid_time", f"{where}: times run from 00:00 to 24:00.")
    if end <= start:
        raise InvalidInput(
            "window_crosses_midnight" if end < start else "empty_window",
            f"{where}: {format_clock(start)}–{format_clock(end)} must end after it starts on "
            "the same day; split hours that run past midnight into two windows.",
        )


def _check_no_overlap(spans: list[tuple[int, int]], where: str) -> None:
    spans = sorted(spans)
    for (s1, e1), (s2, e2) in pairwise(spans):
        if s2 < e1:
            raise InvalidInput(
                "overlapping_windows",
                f"{where}: {format_clock(s1)}–{format_clock(e1)} overlaps "
                f"{format_clock(s2)}–{format_clock(e2)}; merge them into one window.",
            )


def check_weekly(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Each window on one day, ending after it starts, none overlapping another."""
    checked = tuple(sorted(windows, key=lambda w: (w.weekday, w.start)))
    for w in checked:
        if not 0 <= w.weekday <= 6:
            raise InvalidInput("invalid_weekday", "Weekdays run from 0 (Monday) to 6 (Sunday).")
        _check_hours(w.start, w.end, WEEKDAYS[w.weekday].capitalize())
    for day in range(7):
        _check_no_overlap([(w.start, w.end) for w in checked if w.weekday == day],
                          WEEKDAYS[day].capitalize())
    return checked


def check_exceptions(exceptions: Iterable[DateException]) -> tuple[DateException, ...]:
    """A whole day off stands alone on its date; hours (off or extra) do not overlap."""
    checked = tuple(sorted(exceptions, key=lambda x: (x.on, x.start or 0)))
    for x in checked:
        where = x.on.isoformat()
        if x.start is None and x.end is None:
            if x.available:
                raise InvalidInput("hours_required", f"{where}: give the extra hours.")
            if sum(1 for y in checked if y.on == x.on) > 1:
                raise InvalidInput("overlapping_windows",
                                   f"{where} is a day off: it cannot also have hours.")
            continue
        if x.start is None or x.end is None:
            raise InvalidInput("hours_required", f"{where}: give both a start and an end.")
        _check_hours(x.start, x.end, where)
    for day in {x.on for x in checked}:
        _check_no_overlap([(x.start, x.end) for x in checked
                           if x.on == day and x.start is not None and x.end is not None],
                          day.isoformat())
    return checked


def check_limits(buffer_minutes: int, min_notice_minutes: int, horizon_days: int) -> Limits:
    if not 0 <= buffer_minutes <= 240:
        raise InvalidInput("invalid_buffer", "A buffer is between 0 and 240 minutes.")
    if not 0 <= min_notice_minutes <= 14 * MINUTES_PER_DAY:
        raise InvalidInput("invalid_notice", "Minimum notice is between 0 minutes and 14 days.")
    if not 1 <= horizon_days <= 180:
        raise InvalidInput("invalid_horizon", "The booking horizon is between 1 and 180 days.")
    return Limits(timedelta(minutes=buffer_minutes), timedelta(minutes=min_notice_minutes),
                  timedelta(days=horizon_days))


# ---- wall clock to instants ------------------------------------------------------------------


def wall_to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time happens in `zone`. A time the clocks skip (02:30 on a
    spring-forward night) happens at the change itself, which is when the skipped hour would
    have begun; a time that happens twice (autumn) is taken at its first occurrence."""
    day, minute = (day + timedelta(days=1), 0) if minute == MINUTES_PER_DAY else (day, minute)
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    first = naive.replace(tzinfo=zone)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # In a gap: fold=0 reads the time with the offset before the change (too late) and
    # fold=1 with the offset after it (too early); the change lies between. Bisect it.
    low, high = naive.replace(tzinfo=zone, fold=1).astimezone(UTC), instant
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(base: list[Interval], taken: list[Interval]) -> list[Interval]:
    """`base` minus `taken`, both merged and sorted; one pass over each."""
    out: list[Interval] = []
    i = 0
    for start, end in base:
        while i < len(taken) and taken[i][1] <= start:
            i += 1
        j = i
        cursor = start
        while j < len(taken) and taken[j][0] < end:
            if taken[j][0] > cursor:
                out.append((cursor, taken[j][0]))
            cursor = max(cursor, taken[j][1])
            j += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def open_hours(av: Availability, first: date, last: date) -> list[Interval]:
    """The tutor's hours on the local dates first..last (inclusive), as merged UTC intervals:
    the week's windows, less days and hours off, plus extra hours."""
    zone = ZoneInfo(av.time_zone)
    by_weekday: dict[int, list[Window]] = {}
    for w in av.weekly:
        by_weekday.setdefault(w.weekday, []).append(w)
    by_date: dict[date, list[DateException]] = {}
    for x in av.exceptions:
        if first <= x.on <= last:
            by_date.setdefault(x.on, []).append(x)
    opened: list[Interval] = []
    closed: list[Interval] = []
    day = first
    while day <= last:
        changes = by_date.get(day, [])
        if not any(not x.available and x.start is None for x in changes):
            opened += [(wall_to_utc(day, w.start, zone), wall_to_utc(day, w.end, zone))
                       for w in by_weekday.get(day.weekday(), [])]
        for x in changes:
            if x.start is not None and x.end is not None:
                span = (wall_to_utc(day, x.start, zone), wall_to_utc(day, x.end, zone))
                (opened if x.available else closed).append(span)
        day += timedelta(days=1)
    return subtract(merge(o for o in opened if o[0] < o[1]), merge(closed))


def _local_dates(av: Availability, start: datetime, end: datetime) -> tuple[date, date]:
    zone = ZoneInfo(av.time_zone)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


def _busy(av: Availability, held: Iterable[Interval]) -> list[Interval]:
    """Held time widened by the buffer on both sides: no lesson may start or end closer."""
    pad = av.limits.buffer
    return merge((s - pad, e + pad) for s, e in held)


# ---- the answers -----------------------------------------------------------------------------


def slot_starts(
    av: Availability, held: Sequence[Interval], *, now: datetime, start: datetime,
    end: datetime, minutes: int, step: timedelta = SLOT_STEP,
) -> list[datetime]:
    """Bookable start times in [start, end): on the `step` grid of each of the tutor's open
    periods, at least `min_notice` from now and within the horizon, leaving the whole lesson
    plus buffers clear of held time. UTC in, UTC out."""
    if start.tzinfo is None or end.tzinfo is None or now.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    length = timedelta(minutes=minutes)
    earliest = max(start, now + av.limits.min_notice)
    latest = min(end, now + av.limits.horizon)
    if earliest >= latest:
        return []
    first, last = _local_dates(av, earliest, latest + length)
    periods = open_hours(av, first - timedelta(days=1), last)
    free = subtract(periods, _busy(av, held))
    free_starts = [s for s, _ in free]
    found: list[datetime] = []
    for period_start, period_end in periods:
        if period_end <= earliest or period_start >= latest:
            continue
        # The first grid point at or after `earliest`, counting from the period's start.
        skip = max(0, -(-(earliest - period_start) // step))
        candidate = period_start + skip * step
        while candidate < latest and candidate + length <= period_end:
            k = bisect_right(free_starts, candidate) - 1
            if k >= 0 and candidate + length <= free[k][1]:
                found.append(candidate)
            candidate += step
    return found


def check_available(av: Availability, held: Sequence[Interval], start: datetime,
                   end: datetime) -> None:
    """Refuse a lesson outside the tutor's hours, or closer to another one than the buffer.
    (Notice and horizon are the booking rules' to check; the exclusion constraint remains
    the last word on overlaps.)"""
    first, last = _local_dates(av, start, end)
    periods = open_hours(av, first - timedelta(days=1), last)
    if not any(s <= start and end <= e for s, e in periods):
        raise Conflict("outside_availability",
                       "The tutor is not available then; pick one of the offered times.")
    for s, e in _busy(av, held):
        if s < end and start < e:
            raise Conflict("slot_taken",
                           "The tutor already has a session at that time, or too close to "
                           "it; pick another.")
