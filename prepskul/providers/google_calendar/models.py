"""Reading Google's Event resource: the Meet link and the conference's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
