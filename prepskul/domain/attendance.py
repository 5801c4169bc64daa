"""Who attended, read from the notes: a person is present when a transcript line is
matched to their calendar email. Pure."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any


def attendance(
    speaker_emails: Collection[str], *, tutor_email: str | None, student_email: str | None,
    recording_start: datetime | None, recording_end: datetime | None,
) -> dict[str, Any]:
    """`speaker_emails`: the calendar emails matched to someone who spoke."""
    spoke = {email.lower() for email in speaker_emails}

    def seen(email: str | None) -> str:
        return "present" if email and email.lower() in spoke else "absent"

    minutes = None
    if recording_start and recording_end:
        minutes = max(0, round((recording_end - recording_start).total_seconds() / 60))
    return {"tutor": seen(tutor_email), "student": seen(student_email),
            "recorded_minutes": minutes}
