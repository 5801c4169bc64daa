"""How a moment is written for a person: their zone, their language's habit."""

from datetime import UTC, datetime

from prepskul.domain.people import local_time_text


def test_a_moment_is_written_in_the_persons_zone_and_language() -> None:
    noon_utc = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert local_time_text(noon_utc, "Africa/Douala", "fr") == "25/12/2026 13:00"
    assert local_time_text(noon_utc, "Europe/London", "en") == "2026-12-25 12:00"
