"""Our own pages' addresses, for whatever leaves the site: a Calendar event's description,
Fapshi's return address, an email or push message. One builder, so they never drift."""

from __future__ import annotations

import uuid

from prepskul.config import Settings


def page_url(settings: Settings, path: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{path}"


def session_url(settings: Settings, session_id: uuid.UUID) -> str:
    return page_url(settings, f"/sessions/{session_id}")
