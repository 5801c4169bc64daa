"""The outcome of a lesson from whatever evidence arrived: join clicks, Fathom's speakers,
the tutor's report."""

from datetime import UTC, datetime, timedelta

import pytest

from prepskul.domain.errors import Conflict
from prepskul.domain.outcome import (
    Evidence,
    JoinWindow,
    Mark,
    Outcome,
    Spoken,
    decide,
    report_window_open,
)

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
END = START + timedelta(hours=1)
WINDOW = JoinWindow(opens_before=timedelta(minutes=15), grace=timedelta(minutes=20))


@pytest.mark.parametrize(("evidence", "outcome"), [
    (Evidence(), Outcome.UNRESOLVED),
    (Evidence(tutor_join=Mark.PRESENT, learner_join=Mark.LATE), Outcome.COMPLETED),
    (Evidence(tutor_join=Mark.PRESENT), Outcome.STUDENT_NO_SHOW),
    (Evidence(learner_join=Mark.PRESENT), Outcome.TUTOR_NO_SHOW),
    (Evidence(spoken=Spoken(tutor=True, learner=True)), Outcome.COMPLETED),
    (Evidence(spoken=Spoken(tutor=True, learner=False)), Outcome.STUDENT_NO_SHOW),
    # A learner who joined from the calendar invite and stayed silent: the report says so.
    (Evidence(spoken=Spoken(tutor=True, learner=False), reported_learner_present=True),
     Outcome.COMPLETED),
    (Evidence(reported_learner_present=False), Outcome.STUDENT_NO_SHOW),
    (Evidence(reported_learner_present=True), Outcome.COMPLETED),
    # The tutor says the learner never came, but the learner clicked Join or spoke.
    (Evidence(learner_join=Mark.PRESENT, reported_learner_present=False), Outcome.DISPUTED),
    (Evidence(spoken=Spoken(tutor=True, learner=True), reported_learner_present=False),
     Outcome.DISPUTED),
    # Joining 25 minutes late is a no-show for that side.
    (Evidence(tutor_join=Mark.PRESENT, learner_join=Mark.ABSENT), Outcome.STUDENT_NO_SHOW),
    (Evidence(tutor_join=Mark.ABSENT, learner_join=Mark.ABSENT), Outcome.UNRESOLVED),
    (Evidence(spoken=Spoken(tutor=False, learner=False)), Outcome.UNRESOLVED),
])
def test_the_outcome_follows_the_evidence(evidence: Evidence, outcome: Outcome) -> None:
    assert decide(evidence).outcome is outcome


def test_marks_say_who_was_late() -> None:
    verdict = decide(Evidence(tutor_join=Mark.PRESENT, learner_join=Mark.LATE))
    assert (verdict.tutor, verdict.learner) == (Mark.PRESENT, Mark.LATE)
    verdict = decide(Evidence(spoken=Spoken(tutor=True, learner=False)))
    assert (verdict.tutor, verdict.learner) == (Mark.PRESENT, Mark.ABSENT)


@pytest.mark.parametrize(("joined", "mark"), [
    (START - timedelta(minutes=15), Mark.PRESENT),
    (START, Mark.PRESENT),
    (START + timedelta(minutes=20), Mark.LATE),
    (START + timedelta(minutes=21), Mark.ABSENT),
    (None, None),
])
def test_a_join_is_on_time_late_or_too_late(joined: datetime | None, mark: Mark | None) -> None:
    assert WINDOW.mark(joined, START) is mark


@pytest.mark.parametrize(("now", "code"), [
    (START - timedelta(minutes=16), "join_not_open"),
    (END + timedelta(seconds=1), "join_closed"),
])
def test_the_join_button_works_only_around_the_lesson(now: datetime, code: str) -> None:
    with pytest.raises(Conflict) as refused:
        WINDOW.check(now, START, END)
    assert refused.value.code == code
    WINDOW.check(START - timedelta(minutes=15), START, END)
    WINDOW.check(END, START, END)


@pytest.mark.parametrize(("now", "code"), [
    (START - timedelta(minutes=1), "report_too_early"),
    (END + timedelta(hours=24, seconds=1), "report_window_closed"),
])
def test_the_report_has_a_window(now: datetime, code: str) -> None:
    with pytest.raises(Conflict) as refused:
        report_window_open(now, START, END, timedelta(hours=24))
    assert refused.value.code == code
    report_window_open(END + timedelta(hours=24), START, END, timedelta(hours=24))
