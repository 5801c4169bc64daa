"""`process_fathom_webhook`: complete the notes, match, store, notify."""

from __future__ import annotations

import json
from typing import Any

from prepskul.db.models import WebhookEvent
from prepskul.jobs.errors import GiveUp
from prepskul.jobs.worker import JobContext
from prepskul.services import inbox, recordings


async def process_fathom_webhook(ctx: JobContext, payload: dict[str, Any]) -> None:
    rt = ctx.rt
    event_id = int(payload["event_id"])
    async with rt.sessions() as db:
        event = await db.get(WebhookEvent, event_id)
        if event is None:
            raise GiveUp(f"webhook event {event_id} is gone")
        meeting: dict[str, Any] = json.loads(event.body)
    meeting = await recordings.complete_content(rt, meeting)  # Fathom API, outside any tx
    async with rt.sessions.begin() as db:
        outcome = await recordings.ingest(db, rt, meeting)
        await inbox.mark(db, event_id, "processed", now=rt.clock.now(), error=outcome)
