"""Reading Google's Event resource: the Meet link and the conference's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Conference:
    state: str  # pending | success | failure | none
    link: str | None


def conference_of(event: dict[str, Any]) -> Conference:
    data = event.get("conferenceData") or {}
    status = ((data.get("createRequest") or {}).get("status") or {}).get("statusCode")
    video = next(
        (e.get("uri") for e in data.get("entryPoints") or []
         if e.get("entryPointType") == "video" and e.get("uri")),
        None,
    )
    link = video or event.get("hangoutLink")
    if link and status in (None, "success"):
        return Conference("success", link)
    if status in ("pending", "failure"):
        return Conference(status, None)
    return Conference("none", None)


def event_id_for(session_id: str) -> str:
    """A base32hex id (`[a-v0-9]{5,1024}`) derived from the session: a UUID's hex digits are
    already in that alphabet, so a retried insert collides (409) instead of duplicating."""
    return "ps" + session_id.replace("-", "")


def event_body(
    *, event_id: str, summary: str, description: str, starts_at: datetime, ends_at: datetime,
    time_zone: str, attendees: list[str], va_email: str, request_id: str,
) -> dict[str, Any]:
    """An events.insert body with a Meet request. The VA (whose calendar Fathom watches) is
    always invited exactly once, whatever the input; emails are compared case-blind."""
    seen: dict[str, str] = {}
    for email in [*attendees, va_email]:
        if email and email.strip().lower() not in seen:
            seen[email.strip().lower()] = email.strip()
    return {
        "id": event_id,
        "summary": summary,
        "description": description,
        **when(starts_at, ends_at, time_zone),
        "attendees": [{"email": e} for e in seen.values()],
        "reminders": {"useDefault": False, "overrides": [
            {"method": "email", "minutes": 24 * 60}, {"method": "popup", "minutes": 10},
        ]},
        "conferenceData": {"createRequest": {
            "requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"},
        }},
    }


def when(starts_at: datetime, ends_at: datetime, time_zone: str) -> dict[str, Any]:
    """Start and end as wall-clock times in the session's zone (what invitees see)."""
    zone = ZoneInfo(time_zone)

    def local(t: datetime) -> str:
        return t.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")

    return {"start": {"dateTime": local(starts_at), "timeZone": time_zone},
            "end": {"dateTime": local(ends_at), "timeZone": time_zone}}
