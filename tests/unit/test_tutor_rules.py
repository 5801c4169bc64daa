"""Tutor profiles without a server: who can be approved, suspended, booked; what a profile
may say."""

import pytest

from prepskul.domain.errors import Conflict, IllegalTransition, InvalidInput
from prepskul.domain.tutors import (
    Level,
    TutorEvent,
    TutorProfile,
    TutorStatus,
    check_languages,
    check_levels,
    check_rate,
    check_ready_for_approval,
    check_subjects,
    check_taking_bookings,
    missing_for_approval,
    tutor_transition,
)


def test_approval_suspension_and_reinstatement() -> None:
    approved = tutor_transition(TutorStatus.PENDING, TutorEvent.APPROVE)
    assert approved is TutorStatus.APPROVED
    suspended = tutor_transition(approved, TutorEvent.SUSPEND)
    assert tutor_transition(suspended, TutorEvent.APPROVE) is TutorStatus.APPROVED
    with pytest.raises(IllegalTransition) as twice:
        tutor_transition(approved, TutorEvent.APPROVE)
    assert twice.value.code == "cannot_approve"


def test_only_an_approved_tutor_takes_bookings() -> None:
    check_taking_bookings(TutorStatus.APPROVED)
    for status in (TutorStatus.PENDING, TutorStatus.SUSPENDED):
        with pytest.raises(Conflict) as refused:
            check_taking_bookings(status)
        assert refused.value.code == "tutor_not_bookable"


def test_an_operator_approves_only_a_complete_profile() -> None:
    empty = TutorProfile(subjects=(), levels=(), hourly_rate_xaf=None, has_hours=False)
    assert missing_for_approval(empty) == ["subjects", "levels", "hourly rate", "weekly hours"]
    with pytest.raises(Conflict):
        check_ready_for_approval(empty)
    check_ready_for_approval(TutorProfile(("Maths",), (Level.PRIMARY,), 4000, True))


def test_what_a_profile_may_say() -> None:
    assert check_subjects([" Maths ", "maths", "Physics  and  Chemistry"]) == [
        "Maths", "Physics and Chemistry"]
    assert check_levels(["university", "primary"]) == ["primary", "university"]
    assert check_languages(["FR", "en", "fr"]) == ["fr", "en"]
    assert check_rate(5000) == 5000
    for bad in (lambda: check_rate(999), lambda: check_rate(100_001),
                lambda: check_subjects(["x" * 61]), lambda: check_subjects([str(n) for n in
                                                                             range(13)]),
                lambda: check_levels(["nursery"]), lambda: check_languages(["fra"])):
        with pytest.raises(InvalidInput):
            bad()
