"""The rate limit's rule (GCRA), without a database."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from prepskul.domain.throttle import Rate, admit, booking_refused

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RATE = Rate(per_hour=20, burst=20)


def _run(times: list[datetime], rate: Rate = RATE) -> list[bool]:
    tat, verdicts = None, []
    for t in times:
        admission = admit(tat, t, rate)
        tat = admission.tat
        verdicts.append(admission.allowed)
    return verdicts


def test_a_burst_is_admitted_then_refused() -> None:
    assert _run([NOW] * 25) == [True] * 20 + [False] * 5


def test_one_attempt_comes_back_every_interval() -> None:
    verdicts = _run([NOW] * 20 + [NOW + timedelta(minutes=3)] * 2)
    assert verdicts[-2:] == [True, False]


def test_a_refusal_says_when_to_come_back_and_refusals_do_not_push_it_further() -> None:
    tat = None
    for _ in range(20):
        tat = admit(tat, NOW, RATE).tat
    first = admit(tat, NOW, RATE)
    again = admit(first.tat, NOW, RATE)
    assert not first.allowed and first.retry_after == timedelta(minutes=3)
    assert again.tat == first.tat
    assert admit(first.tat, NOW + first.retry_after, RATE).allowed


def test_the_refusal_is_a_429_with_a_code_and_a_wait() -> None:
    refusal = booking_refused(admit(NOW + timedelta(hours=1), NOW, RATE))
    assert (refusal.status, refusal.code) == (429, "too_many_booking_attempts")
    assert refusal.retry_after == 180
    assert "3 minutes" in refusal.message


@given(st.lists(st.integers(min_value=0, max_value=7200), min_size=1, max_size=200))
def test_no_window_of_an_hour_admits_more_than_burst_plus_rate(offsets: list[int]) -> None:
    times = [NOW + timedelta(seconds=s) for s in sorted(offsets)]
    admitted = [t for t, ok in zip(times, _run(times), strict=True) if ok]
    for start in admitted:
        within = [t for t in admitted if start <= t < start + timedelta(hours=1)]
        assert len(within) <= RATE.burst + RATE.per_hour
