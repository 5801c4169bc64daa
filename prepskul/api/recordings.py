"""Lesson notes: `GET /api/sessions/{id}/recording`, and homework ticked off."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import FromRow
from prepskul.db.models import ActionItem, Recording
from prepskul.services import recordings

router = APIRouter(prefix="/api", tags=["recordings"])


class ActionItemOut(FromRow):
    id: uuid.UUID
    description: str
    assignee_name: str | None
    assignee_email: str | None
    timestamp: str | None
    playback_url: str | None
    homework: bool
    due_at: datetime | None
    done_at: datetime | None

class TranscriptLineOut(BaseModel):
    speaker: str | None = Field(description="the speaker's display name")
    speaker_email: str | None = Field(description="the calendar email matched to the speaker")
    text: str | None
    timestamp: str | None = Field(description="HH:MM:SS from the start of the recording")


class RecordingOut(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID | None
    title: str | None
    summary_markdown: str | None
    transcript: list[TranscriptLineOut]
    action_items: list[ActionItemOut]
    attendance: dict[str, Any]
    share_url: str | None
    recording_start: datetime | None
    recording_end: datetime | None

    @classmethod
    def of(cls, r: Recording, items: list[ActionItem]) -> RecordingOut:
        return cls(id=r.id, session_id=r.session_id, title=r.title,
                   summary_markdown=r.summary_markdown,
                   transcript=[TranscriptLineOut.model_validate(line) for line in r.transcript],
                   action_items=[ActionItemOut.model_validate(a) for a in items],
                   attendance=r.attendance,
                   share_url=r.share_url, recording_start=r.recording_start,
                   recording_end=r.recording_end)


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: StrictBool


@router.get("/sessions/{session_id}/recording", response_model=RecordingOut)
async def recording(session_id: uuid.UUID, db: DB, user: User) -> RecordingOut:
    return RecordingOut.of(*await recordings.recording_for(db, user, session_id))


@router.patch("/action-items/{item_id}", response_model=ActionItemOut)
async def tick(item_id: uuid.UUID, body: DoneIn, db: DB, rt: RuntimeDep, user: User
               ) -> ActionItemOut:
    return ActionItemOut.model_validate(await recordings.set_done(db, rt, user, item_id, body.done))
