"""How long bookings hold a tutor's time, and how many a booker may keep open."""

from datetime import UTC, datetime, timedelta

import pytest

from prepskul.domain.errors import Conflict
from prepskul.domain.holds import (
    HoldRules,
    Lapse,
    check_hold,
    check_open_unpaid,
    hold_until,
    is_lapsed,
    lapse_reason,
)
from prepskul.domain.lifecycle import HOLDS_SLOT, Status

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = HoldRules()
FAR = NOW + timedelta(days=10)


def test_an_unpaid_session_holds_its_slot_for_the_payment_window() -> None:
    assert hold_until(Status.AWAITING_PAYMENT, NOW, FAR, RULES) == NOW + timedelta(minutes=30)


def test_a_request_holds_its_slot_for_the_approval_window() -> None:
    assert hold_until(Status.REQUESTED, NOW, FAR, RULES) == NOW + timedelta(hours=48)


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.AWAITING_PAYMENT])
def test_no_tentative_hold_outlives_the_session_s_start(status: Status) -> None:
    soon = NOW + timedelta(minutes=10)
    assert hold_until(status, NOW, soon, RULES) == soon


@pytest.mark.parametrize("status", sorted(HOLDS_SLOT - {Status.REQUESTED,
                                                        Status.AWAITING_PAYMENT}))
def test_paid_time_is_held_for_good(status: Status) -> None:
    assert hold_until(status, NOW, FAR, RULES) is None


def test_the_windows_are_settings() -> None:
    rules = HoldRules(payment_window=timedelta(minutes=5), approval_window=timedelta(hours=2))
    assert hold_until(Status.AWAITING_PAYMENT, NOW, FAR, rules) == NOW + timedelta(minutes=5)
    assert hold_until(Status.REQUESTED, NOW, FAR, rules) == NOW + timedelta(hours=2)


def test_a_hold_has_lapsed_from_its_expiry_on() -> None:
    expiry = NOW + timedelta(minutes=30)
    assert not is_lapsed(expiry, expiry - timedelta(microseconds=1))
    assert is_lapsed(expiry, expiry)
    assert not is_lapsed(None, FAR)


def test_a_lapsed_booking_can_no_longer_be_acted_on() -> None:
    check_hold(NOW + timedelta(seconds=1), NOW)
    check_hold(None, NOW)
    with pytest.raises(Conflict) as refused:
        check_hold(NOW, NOW)
    assert refused.value.code == "hold_lapsed"


def test_whose_wait_ran_out_names_the_notification() -> None:
    assert lapse_reason(Status.REQUESTED) is Lapse.APPROVAL
    assert lapse_reason(Status.AWAITING_PAYMENT) is Lapse.PAYMENT


def test_a_booker_may_hold_up_to_the_cap_and_no_more() -> None:
    for open_count in range(RULES.max_open_unpaid):
        check_open_unpaid(open_count, RULES)
    with pytest.raises(Conflict) as refused:
        check_open_unpaid(RULES.max_open_unpaid, RULES)
    assert refused.value.code == "too_many_unpaid_bookings"
    assert "3" in refused.value.message
