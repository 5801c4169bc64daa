"""Payout rules: the state machine, what a withdrawal may ask, and which need an operator."""

import pytest

from prepskul.domain.errors import IllegalTransition, InvalidInput
from prepskul.domain.payouts import PayoutStatus, advance, check_withdrawal, needs_approval

S = PayoutStatus


@pytest.mark.parametrize(("current", "to"), [
    (S.REQUESTED, S.APPROVED), (S.REQUESTED, S.REJECTED), (S.APPROVED, S.SENDING),
    (S.SENDING, S.SENT), (S.SENDING, S.FAILED), (S.SENT, S.SUCCEEDED), (S.SENT, S.FAILED),
])
def test_a_payout_moves_forward(current: PayoutStatus, to: PayoutStatus) -> None:
    assert advance(current, to) is to


@pytest.mark.parametrize(("current", "to"), [
    (S.REQUESTED, S.SENDING), (S.APPROVED, S.REJECTED), (S.SUCCEEDED, S.FAILED),
    (S.FAILED, S.SUCCEEDED), (S.REJECTED, S.APPROVED), (S.SENT, S.SENDING),
])
def test_a_final_or_skipped_step_is_refused(current: PayoutStatus, to: PayoutStatus) -> None:
    with pytest.raises(IllegalTransition):
        advance(current, to)


def test_a_withdrawal_is_a_cameroon_number_within_the_minimum_and_the_balance() -> None:
    assert check_withdrawal(5000, 8500, 5000, "+237 670 00 00 00") == "670000000"
    for amount, available, code in ((4999, 8500, "below_minimum"),
                                    (9000, 8500, "insufficient_balance")):
        with pytest.raises(InvalidInput) as refused:
            check_withdrawal(amount, available, 5000, "670000000")
        assert refused.value.code == code
    with pytest.raises(InvalidInput):
        check_withdrawal(5000, 8500, 5000, "12345")


@pytest.mark.parametrize(("amount", "below", "needed"),
                         [(5000, 0, True), (5000, 10_000, False), (10_000, 10_000, True)])
def test_only_payouts_under_the_threshold_skip_the_operator(
    amount: int, below: int, needed: bool
) -> None:
    assert needs_approval(amount, below) is needed
