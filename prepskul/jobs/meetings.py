"""Calendar jobs: create the Meet-linked event, move it, cancel it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.providers.errors import PermanentProviderError
from prepskul.services import meetings


async def create_meeting(ctx: JobContext, payload: dict[str, Any]) -> str:
    session_id = uuid.UUID(payload["session_id"])
    paid_at = datetime.fromisoformat(payload["paid_at"]) if "paid_at" in payload else None
    try:
        return await meetings.create_meeting(ctx.rt, session_id, paid_at=paid_at)
    except PermanentProviderError as exc:
        await meetings.mark_meet_failed(ctx.rt, session_id, str(exc))
        raise  # dead letter, with Google's reason, for an operator to fix and replay


async def update_meeting(ctx: JobContext, payload: dict[str, Any]) -> str:
    return await meetings.update_meeting(ctx.rt, uuid.UUID(payload["session_id"]))


async def cancel_meeting(ctx: JobContext, payload: dict[str, Any]) -> str:
    return await meetings.cancel_meeting(ctx.rt, uuid.UUID(payload["session_id"]))
