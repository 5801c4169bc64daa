"""Who attended, read from Fathom's notes: a person is present when a transcript line is
matched to their calendar email. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def attendance(
    transcript: list[dict[str, Any]], *, tutor_email: str | None, student_email: str | None,
    recording_start: datetime | None, recording_end: datetime | None,
) -> dict[str, Any]:
    spoke = {
        str((line.get("speaker") or {}).get("matched_calendar_invitee_email") or "").lower()
        for line in transcript if isinstance(line, dict)
    }

    def seen(email: str | None) -> str:
        return "present" if email and email.lower() in spoke else "absent"

    minutes = None
    if recording_start and recording_end:
        minutes = max(0, round((recording_end - recording_start).total_seconds() / 60))
    return {"tutor": seen(tutor_email), "student": seen(student_email),
            "recorded_minutes": minutes}
