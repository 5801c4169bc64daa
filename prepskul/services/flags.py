"""Transcript flags: lines that look like taking payment or contact off the platform, for
operators only — no change event, no notification, nothing the other party can read."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Profile, Recording, TranscriptFlag, TutoringSession
from prepskul.domain.errors import Conflict, InvalidInput, NotFound
from prepskul.domain.flags import FlagStatus, Line, scan
from prepskul.runtime import Runtime
from prepskul.services import audit

RESOLUTIONS = (FlagStatus.DISMISSED, FlagStatus.ACTIONED)


def transcript_lines(transcript: list[dict[str, Any]]) -> list[Line]:
    """Stored transcript lines (in our names: speaker, speaker_email, text, timestamp)."""
    return [Line(index=index, speaker=str(raw.get("speaker") or "?"),
                 speaker_email=raw.get("speaker_email"), text=str(raw["text"]),
                 timestamp=raw.get("timestamp"))
            for index, raw in enumerate(transcript)
            if isinstance(raw, dict) and raw.get("text")]


async def scan_recording(db: AsyncSession, recording: Recording, session: TutoringSession
                         ) -> int:
    """Flag the recording's transcript; a rescan adds nothing twice (unique per line and
    rule)."""
    found = scan(transcript_lines(recording.transcript or []))
    if not found:
        return 0
    await db.execute(insert(TranscriptFlag).values([
        {"session_id": session.id, "recording_id": recording.id, "line_index": f.line.index,
         "rule": f.rule, "why": f.why, "excerpt": f.excerpt, "speaker": f.line.speaker,
         "speaker_email": f.line.speaker_email, "timestamp": f.line.timestamp,
         "status": FlagStatus.OPEN} for f in found
    ]).on_conflict_do_nothing())
    return len(found)


async def queue(db: AsyncSession, *, status: FlagStatus = FlagStatus.OPEN, limit: int = 200
                ) -> list[TranscriptFlag]:
    return list((await db.scalars(select(TranscriptFlag).where(TranscriptFlag.status == status)
                                  .order_by(TranscriptFlag.created_at).limit(limit))).all())


async def resolve(db: AsyncSession, rt: Runtime, operator: Profile, flag_id: uuid.UUID,
                  resolution: FlagStatus | str, note: str) -> TranscriptFlag:
    """Close a flag as dismissed (a false alarm) or actioned, with a note (audited)."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput("invalid_resolution", "Resolve a flag as dismissed or actioned.")
    flag = await db.get(TranscriptFlag, flag_id, with_for_update=True)
    if flag is None:
        raise NotFound("flag_not_found", "There is no transcript flag with that id.")
    if flag.status != FlagStatus.OPEN:
        raise Conflict("flag_resolved", "This flag is already resolved.")
    await audit.record(db, rt, operator, f"flag_{resolution}", f"transcript_flag:{flag.id}",
                       note, session_id=str(flag.session_id), rule=flag.rule)
    flag.status, flag.resolution_note = FlagStatus(resolution), note.strip()
    flag.resolved_at, flag.resolved_by_id = rt.clock.now(), operator.id
    return flag
