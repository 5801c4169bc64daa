"""The cancellation policy, cell by cell: who cancelled, how long before the start, trial
or regular, no-shows — and the split in XAF that always adds up to what was paid."""

from datetime import timedelta

import pytest

from prepskul.domain.policy import WHOLE, Outcome, Party, Policy, Shares, split
from prepskul.domain.policy import shares as policy_shares
from prepskul.domain.pricing import Kind

# Distinct numbers for trials and regular sessions, so a cell that reads the wrong one fails.
POLICY = Policy(commission_percent=15, trial_commission_percent=40, free_cancel_hours=24,
                late_refund_percent=50, trial_free_cancel_hours=4, trial_late_refund_percent=20)
R, T = Kind.REGULAR, Kind.TRIAL
H = timedelta(hours=1)

# (outcome, by, notice, kind) → (refund, tutor, platform) in basis points
TABLE = [
    # the family cancels: early, late, after the start
    (Outcome.CANCELLED, Party.FAMILY, 48 * H, R, (WHOLE, 0, 0)),
    (Outcome.CANCELLED, Party.FAMILY, 24 * H, R, (WHOLE, 0, 0)),
    (Outcome.CANCELLED, Party.FAMILY, 23 * H, R, (5000, 4250, 750)),
    (Outcome.CANCELLED, Party.FAMILY, timedelta(minutes=1), R, (5000, 4250, 750)),
    (Outcome.CANCELLED, Party.FAMILY, timedelta(0), R, (0, 8500, 1500)),
    (Outcome.CANCELLED, Party.FAMILY, -H, R, (0, 8500, 1500)),
    (Outcome.CANCELLED, Party.FAMILY, 5 * H, T, (WHOLE, 0, 0)),
    (Outcome.CANCELLED, Party.FAMILY, 4 * H, T, (WHOLE, 0, 0)),
    (Outcome.CANCELLED, Party.FAMILY, 3 * H, T, (2000, 4800, 3200)),
    (Outcome.CANCELLED, Party.FAMILY, -H, T, (0, 6000, 4000)),
    # the tutor or an operator cancels: always a full refund
    *[(Outcome.CANCELLED, by, notice, kind, (WHOLE, 0, 0))
      for by in (Party.TUTOR, Party.OPERATOR) for kind in (R, T)
      for notice in (48 * H, 3 * H, -H)],
    # the lesson happened, or one side did not show up
    (Outcome.COMPLETED, None, 0 * H, R, (0, 8500, 1500)),
    (Outcome.COMPLETED, None, 0 * H, T, (0, 6000, 4000)),
    (Outcome.STUDENT_NO_SHOW, None, 0 * H, R, (0, 8500, 1500)),
    (Outcome.STUDENT_NO_SHOW, None, 0 * H, T, (0, 6000, 4000)),
    (Outcome.TUTOR_NO_SHOW, None, 0 * H, R, (WHOLE, 0, 0)),
    (Outcome.TUTOR_NO_SHOW, None, 0 * H, T, (WHOLE, 0, 0)),
]


@pytest.mark.parametrize(("outcome", "by", "notice", "kind", "expected"), TABLE)
def test_every_cell_of_the_policy(
    outcome: Outcome, by: Party | None, notice: timedelta, kind: Kind,
    expected: tuple[int, int, int],
) -> None:
    got = policy_shares(POLICY, kind=kind, outcome=outcome, by=by, notice=notice)
    assert (got.refund, got.tutor, got.platform) == expected
    assert got.reason


def test_the_table_covers_every_party_outcome_and_kind() -> None:
    cancelled = {(by, kind) for o, by, _, kind, _ in TABLE if o is Outcome.CANCELLED}
    assert cancelled == {(p, k) for p in Party for k in Kind}
    assert {o for o, *_ in TABLE} == set(Outcome)


@pytest.mark.parametrize("amount", [100, 101, 2000, 3333, 5000, 7501, 99_999])
@pytest.mark.parametrize("s", [Shares(5000, 4250, 750, ""), Shares(3333, 3333, 3334, ""),
                               Shares(0, 8500, 1500, ""), Shares(WHOLE, 0, 0, ""),
                               Shares(1, 9999, 0, "")])
def test_a_split_adds_up_to_the_franc_and_rounds_for_the_payer(amount: int, s: Shares) -> None:
    out = split(amount, s)
    assert out.total == amount
    assert min(out.refund, out.tutor, out.platform) >= 0
    assert out.refund * WHOLE >= amount * s.refund  # the refund is never rounded down
    assert out.tutor * WHOLE <= amount * s.tutor


def test_a_booking_keeps_the_policy_it_was_made_under() -> None:
    recorded = POLICY.as_record()
    assert Policy.from_record(recorded) == POLICY
    assert Policy.from_record(None) == Policy()  # bookings from before policies existed
    assert Policy.from_record({**recorded, "someday": 3}) == POLICY


def test_a_policy_refuses_percentages_outside_0_to_100() -> None:
    with pytest.raises(ValueError):
        Policy(commission_percent=101)
