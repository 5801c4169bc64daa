"""Which session a Fathom recording belongs to. Pure: the caller passes the candidates.

Preferred: the recording's `meeting_url` equals a session's Meet link. Otherwise: the
session whose tutor and student are both among the calendar invitees and whose start is
within `window` of the recording's scheduled start. Two or more such sessions is ambiguous,
and is left to an operator — never guessed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Candidate:
    session_id: str
    meet_link: str | None
    starts_at: datetime
    emails: frozenset[str]  # tutor's and student's, lower-case


@dataclass(frozen=True)
class RecordingFacts:
    meeting_url: str | None
    scheduled_start: datetime | None
    invitee_emails: frozenset[str]


@dataclass(frozen=True)
class Match:
    session_id: str | None
    how: str  # meeting_url | invitees | ambiguous | unmatched
    candidates: tuple[str, ...] = ()


def _meet_code(url: str | None) -> str | None:
    if not url:
        return None
    return url.strip().rstrip("/").split("?")[0].rsplit("/", 1)[-1].lower() or None


def match_recording(
    facts: RecordingFacts, candidates: list[Candidate], window: timedelta = timedelta(hours=1)
) -> Match:
    code = _meet_code(facts.meeting_url)
    if code:
        by_link = [c for c in candidates if _meet_code(c.meet_link) == code]
        if len(by_link) == 1:
            return Match(by_link[0].session_id, "meeting_url")
    if facts.scheduled_start is None:
        return Match(None, "unmatched")
    invited = {e.lower() for e in facts.invitee_emails}
    near = [
        c for c in candidates
        if c.emails and c.emails <= invited
        and abs(c.starts_at - facts.scheduled_start) <= window
    ]
    if len(near) == 1:
        return Match(near[0].session_id, "invitees")
    if len(near) > 1:
        return Match(None, "ambiguous", tuple(c.session_id for c in near))
    return Match(None, "unmatched")
