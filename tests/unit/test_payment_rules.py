"""What a confirmed Fapshi transaction may do, decided without I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from prepskul.domain.lifecycle import Status
from prepskul.domain.payments import expires_session, judge_success, next_check_delay

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _judge(status: Status = Status.AWAITING_PAYMENT, paid: int = 3500,
           external: str | None = "s1", starts_in: timedelta = timedelta(hours=5),
           ) -> tuple[bool, str | None]:
    verdict = judge_success(session_status=status, expected_amount=3500, paid_amount=paid,
                            expected_external_id="s1", external_id=external,
                            starts_at=NOW + starts_in, now=NOW)
    return verdict.confirm, verdict.flag


def test_the_right_amount_for_the_right_session_confirms_it() -> None:
    assert _judge() == (True, None)


def test_a_different_amount_is_flagged_and_confirms_nothing() -> None:
    assert _judge(paid=100) == (False, "amount_mismatch")


def test_a_transaction_of_another_session_is_flagged() -> None:
    assert _judge(external="s2") == (False, "wrong_session")


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.DECLINED, Status.PAID,
                                    Status.SCHEDULED])
def test_money_for_a_closed_or_already_paid_session_is_a_refund_owed(status: Status) -> None:
    assert _judge(status=status) == (False, "refund_owed")


def test_money_for_an_expired_session_that_has_not_begun_books_it_if_its_time_is_free() -> None:
    verdict = judge_success(session_status=Status.EXPIRED, expected_amount=3500,
                            paid_amount=3500, expected_external_id="s1", external_id="s1",
                            starts_at=NOW + timedelta(minutes=1), now=NOW)
    assert (verdict.confirm, verdict.late) == (True, True)


@pytest.mark.parametrize("starts_in", [timedelta(0), -timedelta(hours=1)])
def test_money_for_an_expired_session_whose_time_has_come_is_a_refund_owed(
    starts_in: timedelta,
) -> None:
    assert _judge(status=Status.EXPIRED, starts_in=starts_in) == (False, "refund_owed")


def test_a_late_payment_of_the_wrong_amount_is_flagged_not_booked() -> None:
    assert _judge(status=Status.EXPIRED, paid=100) == (False, "amount_mismatch")


def test_reconciliation_backs_off_but_never_past_the_cap_while_a_link_can_be_paid() -> None:
    cap = timedelta(minutes=5)
    delays = [next_check_delay(timedelta(minutes=1), n, cap) for n in range(8)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(seconds=30)
    assert max(delays) == cap
    assert next_check_delay(timedelta(hours=26), 3, cap) == timedelta(hours=6)


def test_an_expired_checkout_expires_the_session_only_when_too_late_to_pay_again() -> None:
    notice = timedelta(hours=2)
    assert expires_session(Status.AWAITING_PAYMENT, timedelta(hours=1), notice)
    assert not expires_session(Status.AWAITING_PAYMENT, timedelta(days=2), notice)
    assert not expires_session(Status.PAID, timedelta(hours=1), notice)
