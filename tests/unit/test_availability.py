"""Bookable slots: availability minus held time minus buffers, over UTC instants, right
across daylight-saving changes in the tutor's zone and the viewer's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from prepskul.domain.availability import (
    Availability,
    DateException,
    Limits,
    Window,
    check_available,
    check_exceptions,
    check_limits,
    check_weekly,
    parse_clock,
    slot_starts,
    wall_to_utc,
)
from prepskul.domain.errors import Conflict, InvalidInput

PARIS, DOUALA, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("Africa/Douala"), ZoneInfo(
    "America/New_York")
NO_LIMITS = Limits(min_notice=timedelta(0), horizon=timedelta(days=365))


def every_day(start: str, end: str) -> tuple[Window, ...]:
    return tuple(Window(d, parse_clock(start), parse_clock(end)) for d in range(7))


def tutor(zone: str, weekly: tuple[Window, ...], exceptions: tuple[DateException, ...] = (),
          limits: Limits = NO_LIMITS) -> Availability:
    return Availability(zone, weekly, exceptions, limits)


def slots(av: Availability, day: date, zone: ZoneInfo, minutes: int = 60,
          held: list[tuple[datetime, datetime]] | None = None, now: datetime | None = None,
          days: int = 1) -> list[str]:
    """The day's free start times as the viewer in `zone` reads them ("HH:MM")."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    found = slot_starts(av, held or [], now=now or start - timedelta(days=1),
                        start=start.astimezone(UTC),
                        end=(start + timedelta(days=days)).astimezone(UTC), minutes=minutes)
    return [s.astimezone(zone).strftime("%H:%M") for s in found]


def test_a_window_offers_every_half_hour_that_fits_the_lesson() -> None:
    av = tutor("Africa/Douala", every_day("09:00", "11:00"))
    assert slots(av, date(2026, 3, 2), DOUALA) == ["09:00", "09:30", "10:00"]
    assert slots(av, date(2026, 3, 2), DOUALA, minutes=120) == ["09:00"]


def test_a_paris_tutor_seen_from_douala_moves_by_an_hour_when_paris_springs_forward() -> None:
    # Paris changes on 29 March 2026; Douala never changes.
    av = tutor("Europe/Paris", every_day("09:00", "10:00"))
    assert slots(av, date(2026, 3, 28), DOUALA) == ["09:00"]  # CET = UTC+1 = Douala
    assert slots(av, date(2026, 3, 29), DOUALA) == ["08:00"]  # CEST = UTC+2
    assert slots(av, date(2026, 3, 30), DOUALA) == ["08:00"]


def test_and_back_when_paris_falls_back() -> None:
    av = tutor("Europe/Paris", every_day("09:00", "10:00"))
    assert slots(av, date(2026, 10, 24), DOUALA) == ["08:00"]
    assert slots(av, date(2026, 10, 25), DOUALA) == ["09:00"]


def test_a_douala_tutor_seen_from_new_york_between_the_american_and_european_changes() -> None:
    # New York springs forward on 8 March 2026; Douala never. 14:00 Douala = 13:00 UTC.
    av = tutor("Africa/Douala", every_day("14:00", "15:00"))
    assert slots(av, date(2026, 3, 7), NEW_YORK) == ["08:00"]  # EST = UTC-5
    assert slots(av, date(2026, 3, 9), NEW_YORK) == ["09:00"]  # EDT = UTC-4


def test_a_new_york_tutor_keeps_their_wall_clock_while_paris_has_not_changed_yet() -> None:
    av = tutor("America/New_York", every_day("10:00", "11:00"))
    assert slots(av, date(2026, 3, 6), PARIS) == ["16:00"]   # EST vs CET: 6 hours
    assert slots(av, date(2026, 3, 10), PARIS) == ["15:00"]  # EDT vs CET: 5 hours
    assert slots(av, date(2026, 3, 30), PARIS) == ["16:00"]  # EDT vs CEST: 6 again


def test_hours_across_the_skipped_hour_last_one_hour_less() -> None:
    av = tutor("Europe/Paris", every_day("01:00", "04:00"))
    spring = slots(av, date(2026, 3, 29), PARIS, minutes=60)
    # Two real hours, 01:00 CET to 04:00 CEST: 01:30 CET + 60 minutes is 03:30 CEST.
    assert spring == ["01:00", "01:30", "03:00"]


def test_hours_across_the_repeated_hour_last_one_hour_more() -> None:
    av = tutor("Europe/Paris", every_day("01:00", "04:00"))
    instants = slot_starts(av, [], now=datetime(2026, 10, 1, tzinfo=UTC),
                           start=datetime(2026, 10, 24, 22, tzinfo=UTC),
                           end=datetime(2026, 10, 25, 6, tzinfo=UTC), minutes=60)
    assert len(instants) == 7  # 4 real hours on the grid: 01:00 CEST … 03:00 CET


def test_a_skipped_wall_time_happens_at_the_change() -> None:
    assert wall_to_utc(date(2026, 3, 29), 150, PARIS) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert wall_to_utc(date(2026, 3, 8), 150, NEW_YORK) == datetime(2026, 3, 8, 7, tzinfo=UTC)


def test_held_sessions_and_their_buffers_are_not_offered() -> None:
    av = tutor("Africa/Douala", every_day("08:00", "13:00"),
               limits=Limits(buffer=timedelta(minutes=15), min_notice=timedelta(0),
                             horizon=timedelta(days=365)))
    held = [(datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))]
    # Held 10:00–11:00 Douala; with 15 min either side no lesson may touch 09:45–11:15.
    assert slots(av, date(2026, 3, 2), DOUALA, held=held) == ["08:00", "08:30", "11:30", "12:00"]


def test_day_off_hours_off_and_extra_hours() -> None:
    day = date(2026, 3, 2)
    weekly = every_day("09:00", "12:00")
    off = tutor("Africa/Douala", weekly, (DateException(day, False),))
    assert slots(off, day, DOUALA) == []
    morning_off = tutor("Africa/Douala", weekly, (DateException(day, False, 540, 600),))
    assert slots(morning_off, day, DOUALA) == ["10:00", "10:30", "11:00"]
    evening = tutor("Africa/Douala", weekly, (DateException(day, True, 1080, 1140),))
    assert slots(evening, day, DOUALA)[-1] == "18:00"


def test_minimum_notice_and_horizon() -> None:
    now = datetime(2026, 3, 2, 8, 10, tzinfo=UTC)  # 09:10 in Douala
    limits = Limits(min_notice=timedelta(hours=2), horizon=timedelta(days=1))
    av = tutor("Africa/Douala", every_day("09:00", "14:00"), limits=limits)
    assert slots(av, date(2026, 3, 2), DOUALA, now=now) == ["11:30", "12:00", "12:30", "13:00"]
    assert slots(av, date(2026, 3, 3), DOUALA, now=now) == ["09:00"]  # until 09:10 tomorrow
    assert slots(av, date(2026, 3, 4), DOUALA, now=now) == []


def test_a_lesson_in_the_offered_hours_is_bookable_and_one_outside_is_refused() -> None:
    av = tutor("Europe/Paris", every_day("09:00", "12:00"))
    inside = datetime(2026, 7, 1, 7, tzinfo=UTC)  # 09:00 CEST
    check_available(av, [], inside, inside + timedelta(hours=1))
    with pytest.raises(Conflict) as refused:
        check_available(av, [], inside - timedelta(hours=1), inside)  # 08:00 CEST
    assert refused.value.code == "outside_availability"
    with pytest.raises(Conflict) as taken:
        check_available(av, [(inside, inside + timedelta(hours=1))], inside,
                       inside + timedelta(hours=1))
    assert taken.value.code == "slot_taken"


@pytest.mark.parametrize(("windows", "code"), [
    ([Window(0, 600, 540)], "window_crosses_midnight"),
    ([Window(0, 540, 540)], "empty_window"),
    ([Window(0, 540, 720), Window(0, 660, 780)], "overlapping_windows"),
    ([Window(7, 540, 600)], "invalid_weekday"),
    ([Window(0, 540, 1500)], "invalid_time"),
])
def test_bad_weekly_hours_are_refused_with_a_reason(windows: list[Window], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_weekly(windows)
    assert refused.value.code == code


def test_touching_windows_and_a_window_to_midnight_are_fine() -> None:
    assert len(check_weekly([Window(0, 540, 720), Window(0, 720, 1440)])) == 2


def test_bad_exceptions_and_limits_are_refused() -> None:
    day = date(2026, 3, 2)
    for bad in ([DateException(day, True)], [DateException(day, False),
                                             DateException(day, True, 60, 120)],
                [DateException(day, True, 600, 60)]):
        with pytest.raises(InvalidInput):
            check_exceptions(bad)
    with pytest.raises(InvalidInput):
        check_limits(-1, 0, 30)
    with pytest.raises(InvalidInput):
        check_limits(0, 0, 0)
    for text in ("9:00", "25:00", "12:60", "noon"):
        with pytest.raises(InvalidInput):
            parse_clock(text)


@given(
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Africa/Douala",
                          "Australia/Lord_Howe", "Asia/Kathmandu"]),
    start=st.integers(0, 23 * 60).map(lambda m: m - m % 30),
    length=st.integers(1, 8).map(lambda h: h * 60),
    minutes=st.sampled_from([30, 60, 90]),
    first=st.dates(date(2026, 1, 1), date(2027, 12, 1)),
    held_at=st.integers(0, 14 * 48),
)
# The night Paris falls back: a window opening at 02:30 (summer time) is open through the
# repeated 02:00-03:00 of winter time, which reads earlier on the clock but is later in fact.
@example(zone="Europe/Paris", start=150, length=120, minutes=30, first=date(2026, 10, 24),
         held_at=600)
def test_every_offered_slot_is_bookable_and_clear_of_held_time(
    zone: str, start: int, length: int, minutes: int, first: date, held_at: int
) -> None:
    end = min(start + length, 1440)
    av = tutor(zone, tuple(Window(d, start, end) for d in range(7)),
               limits=Limits(buffer=timedelta(minutes=10), min_notice=timedelta(0),
                             horizon=timedelta(days=365)))
    begin = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    held_start = begin + timedelta(minutes=30 * held_at)
    held = [(held_start, held_start + timedelta(hours=1))]
    found = slot_starts(av, held, now=begin, start=begin, end=begin + timedelta(days=14),
                        minutes=minutes)
    assert found == sorted(set(found))
    for s in found:
        check_available(av, held, s, s + timedelta(minutes=minutes))  # never refused
        local = s.astimezone(ZoneInfo(zone))
        assert (local.hour * 60 + local.minute >= start or local.date() != s.date()
                or local.fold == 1)
