"""`process_fathom_webhook`: complete the notes, match, store, notify."""

from __future__ import annotations

from typing import Any

from prepskul.db.models import InboxState
from prepskul.jobs.worker import JobContext
from prepskul.providers.fathom.models import ValidationError, parse_meeting, readable
from prepskul.services import inbox, recordings


async def process_fathom_webhook(ctx: JobContext, payload: dict[str, Any]) -> str:
    rt = ctx.rt
    event_id = int(payload["event_id"])
    try:
        meeting = parse_meeting(await inbox.load_body(rt, event_id))
    except ValidationError as exc:
        # Signed, so Fathom's, but of a shape we cannot read: retrying cannot help. Kept,
        # with the reason, for an operator (who can replay it once the code reads it).
        reason = readable(exc)
        async with rt.sessions.begin() as db:
            await inbox.mark(db, event_id, InboxState.UNREADABLE, now=rt.clock.now(), error=reason)
        return reason
    meeting = await recordings.complete_content(rt, meeting)  # Fathom API, outside any tx
    async with rt.sessions.begin() as db:
        outcome = await recordings.ingest(db, rt, meeting)
        await inbox.mark(db, event_id, InboxState.PROCESSED, now=rt.clock.now(), error=outcome)
    return outcome


async def mark_missing_recordings(ctx: JobContext, payload: dict[str, Any]) -> str:
    return f"{await recordings.mark_missing(ctx.rt)} recordings marked missing"
