"""Matching a Fathom recording to its session, every path."""

from datetime import UTC, datetime, timedelta

from prepskul.domain.matching import Candidate, RecordingFacts, match_recording

T = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
A = Candidate("a", "https://meet.google.com/abc-defg-hij", T, frozenset({"t@x.cm", "s@x.cm"}))
B = Candidate("b", "https://meet.google.com/zzz-zzzz-zzz", T, frozenset({"t@x.cm", "k@x.cm"}))


def facts(url: str | None = None, start: datetime | None = T,
          emails: set[str] | None = None) -> RecordingFacts:
    return RecordingFacts(url, start, frozenset(emails or set()))


def test_the_meet_url_wins_whatever_the_invitees_say() -> None:
    m = match_recording(facts("https://meet.google.com/ABC-defg-hij?authuser=0"), [A, B])
    assert (m.session_id, m.how) == ("a", "meeting_url")


def test_without_a_url_tutor_and_student_invited_near_the_start_match() -> None:
    m = match_recording(facts(emails={"T@x.cm", "s@x.cm", "va@x.cm"},
                              start=T + timedelta(minutes=5)), [A, B])
    assert (m.session_id, m.how) == ("a", "invitees")


def test_two_plausible_sessions_are_ambiguous_not_guessed() -> None:
    m = match_recording(facts(emails={"t@x.cm", "s@x.cm", "k@x.cm"}), [A, B])
    assert (m.session_id, m.how, set(m.candidates)) == (None, "ambiguous", {"a", "b"})


def test_far_from_the_start_or_missing_people_is_unmatched() -> None:
    assert match_recording(facts(emails={"t@x.cm", "s@x.cm"}, start=T + timedelta(hours=3)),
                           [A]).how == "unmatched"
    assert match_recording(facts(emails={"t@x.cm"}), [A]).how == "unmatched"
    assert match_recording(facts(start=None), [A]).how == "unmatched"
