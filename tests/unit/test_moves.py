"""Moves by agreement: who may move a session how, who answers, and until when."""

from datetime import UTC, datetime, timedelta

import pytest

from prepskul.domain.errors import Conflict, IllegalTransition, NotAllowed
from prepskul.domain.lifecycle import RESCHEDULABLE, Status
from prepskul.domain.moves import (
    MoveRules,
    ProposalState,
    Side,
    answer_by,
    check_answerer,
    check_direct_move,
    check_movable,
    check_no_pending,
    check_pending,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = MoveRules()


def test_a_proposal_waits_48_hours_but_never_past_either_start() -> None:
    far = NOW + timedelta(days=10)
    assert answer_by(NOW, far, far, RULES) == NOW + timedelta(hours=48)
    assert answer_by(NOW, NOW + timedelta(hours=5), far, RULES) == NOW + timedelta(hours=5)
    assert answer_by(NOW, far, NOW + timedelta(hours=7), RULES) == NOW + timedelta(hours=7)


@pytest.mark.parametrize("status", sorted(set(Status) - RESCHEDULABLE))
def test_sessions_that_ended_or_never_happened_cannot_move(status: Status) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_movable(status)
    assert refused.value.code == "cannot_reschedule"


def test_a_paid_session_moves_directly_only_by_an_operator() -> None:
    for status in (Status.PAID, Status.SCHEDULED):
        with pytest.raises(Conflict) as refused:
            check_direct_move(status, operator=False)
        assert refused.value.code == "move_needs_agreement"
        check_direct_move(status, operator=True)


def test_an_unpaid_session_moves_directly() -> None:
    check_direct_move(Status.AWAITING_PAYMENT, operator=False)
    check_direct_move(Status.REQUESTED, operator=False)


def test_only_the_other_party_answers() -> None:
    check_answerer(Side.TUTOR, Side.LEARNER)
    check_answerer(Side.LEARNER, Side.TUTOR)
    for proposer, answerer in ((Side.TUTOR, Side.TUTOR), (Side.LEARNER, None)):
        with pytest.raises(NotAllowed):
            check_answerer(proposer, answerer)


def test_a_proposal_is_answerable_while_pending_and_in_time() -> None:
    later = NOW + timedelta(minutes=1)
    check_pending(ProposalState.PENDING, later, NOW)
    with pytest.raises(Conflict, match="expired"):
        check_pending(ProposalState.PENDING, NOW, NOW)  # even before the sweep says so
    with pytest.raises(Conflict, match="declined"):
        check_pending(ProposalState.DECLINED, later, NOW)


def test_one_pending_proposal_at_a_time() -> None:
    check_no_pending(False)
    with pytest.raises(Conflict):
        check_no_pending(True)
