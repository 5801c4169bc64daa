"""Pricing and booking rules, without a server."""

from datetime import UTC, datetime, timedelta

import pytest

from prepskul.domain.booking import (
    BookingRules,
    check_slot,
    check_subject,
    needs_approval,
    resolve_student,
)
from prepskul.domain.errors import InvalidInput, NotAllowed
from prepskul.domain.people import Role
from prepskul.domain.phone import normalise_phone
from prepskul.domain.pricing import Kind, TrialPrices, price_xaf, sibling_price_xaf

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
RULES = BookingRules(min_notice=timedelta(hours=2))


@pytest.mark.parametrize(("minutes", "price"), [(30, 2000), (60, 3500)])
def test_trials_have_fixed_prices(minutes: int, price: int) -> None:
    assert price_xaf(Kind.TRIAL, minutes, 9000, TrialPrices.default()) == price


def test_a_trial_of_another_length_is_refused() -> None:
    with pytest.raises(InvalidInput, match="30 or 60"):
        price_xaf(Kind.TRIAL, 45, None, TrialPrices.default())


def test_regular_sessions_cost_the_tutors_rate_times_duration_rounded_up() -> None:
    assert price_xaf(Kind.REGULAR, 90, 5000, TrialPrices.default()) == 7500
    assert price_xaf(Kind.REGULAR, 45, 3333, TrialPrices.default()) == 2500  # 2499.75 ↑


def test_a_tutor_without_a_rate_cannot_be_booked_for_regular_sessions() -> None:
    with pytest.raises(InvalidInput) as refused:
        price_xaf(Kind.REGULAR, 60, None, TrialPrices.default())
    assert refused.value.code == "tutor_has_no_rate"


def test_a_slot_needs_notice_and_a_sane_length() -> None:
    slot = check_slot(NOW + timedelta(hours=3), 60, NOW, RULES)
    assert slot.ends_at - slot.starts_at == timedelta(hours=1)
    with pytest.raises(InvalidInput, match="at least 2 hours"):
        check_slot(NOW + timedelta(minutes=90), 60, NOW, RULES)
    for minutes in (29, 181):
        with pytest.raises(InvalidInput, match="between 30 and 180"):
            check_slot(NOW + timedelta(hours=3), minutes, NOW, RULES)


def test_naive_times_are_refused_because_they_name_no_instant() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_slot(datetime(2026, 3, 2, 10, 0), 60, NOW, RULES)
    assert refused.value.code == "naive_time"


def test_the_subject_must_be_one_the_tutor_teaches_whatever_its_case() -> None:
    assert check_subject("mathematics", ["Mathematics", "Physics"]) == "Mathematics"
    with pytest.raises(InvalidInput, match="Mathematics, Physics"):
        check_subject("Chemistry", ["Mathematics", "Physics"])


def test_students_book_for_themselves_and_parents_for_linked_children() -> None:
    assert resolve_student("s1", Role.STUDENT, None, set()) == "s1"
    assert resolve_student("p1", Role.PARENT, "c1", {"c1"}) == "c1"
    with pytest.raises(NotAllowed):
        resolve_student("p1", Role.PARENT, "stranger", {"c1"})
    with pytest.raises(InvalidInput):
        resolve_student("p1", Role.PARENT, None, {"c1"})
    with pytest.raises(NotAllowed):
        resolve_student("t1", Role.TUTOR, None, set())


def test_trials_always_need_approval_regular_only_if_the_tutor_asks() -> None:
    assert needs_approval(Kind.TRIAL, tutor_requires_approval=False)
    assert not needs_approval(Kind.REGULAR, tutor_requires_approval=False)
    assert needs_approval(Kind.REGULAR, tutor_requires_approval=True)


@pytest.mark.parametrize("raw", ["670000000", "+237 670 00 00 00", "237670000000",
                                 "00237-670-000-000", " 6 70 00 00 00 "])
def test_phone_numbers_are_normalised_to_nine_digits(raw: str) -> None:
    assert normalise_phone(raw) == "670000000"


@pytest.mark.parametrize("raw", ["570000000", "67000000", "+33 6 12 34 56 78", "phone", ""])
def test_invalid_phone_numbers_are_refused_with_an_example(raw: str) -> None:
    with pytest.raises(InvalidInput, match="670 00 00 00"):
        normalise_phone(raw)


def test_a_second_childs_regular_sessions_in_a_month_cost_less() -> None:
    assert sibling_price_xaf(5000, Kind.REGULAR, 15, 0) == 5000  # the first child
    assert sibling_price_xaf(5000, Kind.REGULAR, 15, 1) == 4250
    assert sibling_price_xaf(5001, Kind.REGULAR, 15, 2) == 4251  # the charge rounds up
    assert sibling_price_xaf(3500, Kind.TRIAL, 15, 1) == 3500  # trials keep their price
    assert sibling_price_xaf(110, Kind.REGULAR, 50, 1) == 100  # never below Fapshi's minimum
