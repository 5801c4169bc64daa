"""Well-formed ledger movements: balanced, whole francs, accounts with the right owners."""

import uuid

import pytest

from prepskul.domain.ledger import OUTSIDE, REVENUE, Account, AccountKind, Entry, Movement, transfer

TUTOR = uuid.uuid4()


def test_a_transfer_takes_from_one_account_what_the_others_receive() -> None:
    pending = Account(AccountKind.TUTOR_PENDING, TUTOR)
    m = transfer("k", "settle", Account(AccountKind.CLEARING, uuid.uuid4()),
                 {pending: 4250, REVENUE: 750, Account(AccountKind.CREDIT, uuid.uuid4()): 0})
    assert m is not None
    assert [e.amount for e in m.entries] == [-5000, 4250, 750]  # the zero share is left out


def test_a_transfer_of_nothing_is_no_movement() -> None:
    assert transfer("k", "x", OUTSIDE, {REVENUE: 0}) is None


@pytest.mark.parametrize("entries", [
    (Entry(OUTSIDE, -100), Entry(REVENUE, 99)),
    (Entry(OUTSIDE, -100),),
    (Entry(OUTSIDE, 0), Entry(REVENUE, 0)),
    (Entry(OUTSIDE, -1), Entry(REVENUE, True)),  # type: ignore[arg-type]
    (Entry(OUTSIDE, -1.5), Entry(REVENUE, 1.5)),  # type: ignore[arg-type]
])
def test_an_unbalanced_or_fractional_movement_is_refused(entries: tuple[Entry, ...]) -> None:
    with pytest.raises(ValueError):
        Movement("k", "x", entries)


def test_negative_shares_are_refused() -> None:
    with pytest.raises(ValueError):
        transfer("k", "x", OUTSIDE, {REVENUE: -5})


def test_platform_accounts_have_no_owner_and_personal_ones_need_one() -> None:
    with pytest.raises(ValueError):
        Account(AccountKind.REVENUE, TUTOR)
    with pytest.raises(ValueError):
        Account(AccountKind.CREDIT)
