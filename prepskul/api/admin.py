"""Operator API (admin role): inbox, jobs, flagged payments, recordings to assign, lessons
awaiting a decision, transcript flags, reviews to hide."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from prepskul.api.after_lesson import OutcomeOut, ReviewOut
from prepskul.api.deps import DB, Admin, RuntimeDep
from prepskul.api.errors import errors
from prepskul.api.schemas import FromRow, PaymentOut, SessionOut
from prepskul.db.models import InboxState
from prepskul.domain.flags import FlagStatus
from prepskul.domain.outcome import Outcome
from prepskul.queue.kinds import JobStatus
from prepskul.services import confirmations, flags, operations, recordings, reviews

router = APIRouter(prefix="/api/admin", tags=["operators"], responses=errors(403))
Limit = Annotated[int, Query(ge=1, le=500)]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a Postgres bigint: larger ids are 422s


class WebhookEventOut(FromRow):
    id: int
    provider: str
    delivery_key: str
    received_at: datetime
    verified: bool
    rejection: str | None
    state: str
    error: str | None
    attempts: int
    source_ip: str | None

class JobOut(FromRow):
    id: int
    kind: str
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    finished_at: datetime | None
    last_error: str | None
    outcome: str | None  # what the handler did, in its words

class UnassignedRecordingOut(BaseModel):
    id: uuid.UUID
    fathom_recording_id: int
    title: str | None
    match: str
    candidates: list[str]
    meeting_url: str | None
    scheduled_start: datetime | None
    invitees: list[str]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: uuid.UUID


@router.get("/webhooks", response_model=list[WebhookEventOut])
async def webhooks(db: DB, _: Admin, provider: str | None = None,
                   state: InboxState | None = None,
                   limit: Limit = 100) -> list[WebhookEventOut]:
    events = await operations.webhook_events(db, provider=provider, state=state, limit=limit)
    return [WebhookEventOut.model_validate(e) for e in events]


@router.post("/webhooks/{event_id}/replay", response_model=WebhookEventOut,
             responses=errors(409))
async def replay_webhook(event_id: RowId, db: DB, rt: RuntimeDep, _: Admin) -> WebhookEventOut:
    return WebhookEventOut.model_validate(await operations.replay_webhook(db, rt, event_id))


@router.get("/jobs", response_model=list[JobOut])
async def jobs(db: DB, _: Admin, status: JobStatus | None = None, limit: Limit = 100
               ) -> list[JobOut]:
    return [JobOut.model_validate(j) for j in await operations.jobs(db, status=status, limit=limit)]


@router.post("/jobs/{job_id}/replay", status_code=204, responses=errors(409))
async def replay_job(job_id: RowId, db: DB, rt: RuntimeDep, _: Admin) -> None:
    await operations.replay_job(db, rt, job_id)


@router.delete("/jobs/{job_id}", status_code=204, responses=errors(409))
async def purge_job(job_id: RowId, db: DB, _: Admin) -> None:
    """A dead job is kept until replayed or purged here; finished ones go by themselves."""
    await operations.purge_job(db, job_id)


@router.get("/payments/flagged", response_model=list[PaymentOut])
async def flagged_payments(db: DB, _: Admin) -> list[PaymentOut]:
    return [PaymentOut.model_validate(p) for p in await operations.flagged_payments(db)]


@router.get("/sessions/attention", response_model=list[SessionOut])
async def attention(db: DB, _: Admin) -> list[SessionOut]:
    return [SessionOut.of(s) for s in await operations.sessions_needing_attention(db)]


@router.get("/recordings/unassigned", response_model=list[UnassignedRecordingOut])
async def unassigned(db: DB, _: Admin) -> list[UnassignedRecordingOut]:
    return [
        UnassignedRecordingOut(
            id=r.id, fathom_recording_id=r.fathom_recording_id, title=r.title, match=r.match,
            candidates=r.candidates, meeting_url=r.meeting_url,
            scheduled_start=r.scheduled_start,
            invitees=[str(i.get("email")) for i in r.invitees if i.get("email")])
        for r in await operations.unassigned_recordings(db)
    ]


@router.post("/recordings/{recording_id}/assign", status_code=204, responses=errors(409))
async def assign(recording_id: uuid.UUID, body: AssignIn, db: DB, rt: RuntimeDep, _: Admin
                 ) -> None:
    await recordings.assign(db, rt, recording_id, body.session_id)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["completed", "tutor_no_show", "student_no_show"]
    reason: str = Field(min_length=1, max_length=2000)


class AwaitingOut(BaseModel):
    session: SessionOut
    outcome: OutcomeOut


class FlagOut(FromRow):
    id: uuid.UUID
    session_id: uuid.UUID
    rule: str
    why: str
    excerpt: str
    speaker: str
    speaker_email: str | None
    timestamp: str | None
    status: str
    created_at: datetime


class ResolveFlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["dismissed", "actioned"]
    note: str = Field(min_length=1, max_length=2000)


class HideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/outcomes/awaiting", response_model=list[AwaitingOut])
async def awaiting(db: DB, _: Admin) -> list[AwaitingOut]:
    """Lessons with no evidence at all, or contested: an operator decides."""
    return [AwaitingOut(session=SessionOut.of(s), outcome=OutcomeOut.of(s.id, s.status, o, None))
            for s, o in await confirmations.awaiting_operator(db)]


@router.post("/sessions/{session_id}/outcome", response_model=OutcomeOut)
async def decide(session_id: uuid.UUID, body: DecisionIn, db: DB, rt: RuntimeDep,
                 admin: Admin) -> OutcomeOut:
    row = await confirmations.decide_by_operator(db, rt, admin, session_id,
                                                 Outcome(body.outcome), body.reason)
    return OutcomeOut.of(session_id, row.outcome, row, None)


@router.get("/flags", response_model=list[FlagOut])
async def transcript_flags(db: DB, _: Admin, status: FlagStatus = FlagStatus.OPEN,
                           limit: Limit = 200) -> list[FlagOut]:
    return [FlagOut.model_validate(f) for f in await flags.queue(db, status=status, limit=limit)]


@router.post("/flags/{flag_id}/resolve", response_model=FlagOut)
async def resolve_flag(flag_id: uuid.UUID, body: ResolveFlagIn, db: DB, rt: RuntimeDep,
                       admin: Admin) -> FlagOut:
    return FlagOut.model_validate(
        await flags.resolve(db, rt, admin, flag_id, body.resolution, body.note))


@router.post("/reviews/{review_id}/hide", response_model=ReviewOut)
async def hide_review(review_id: uuid.UUID, body: HideIn, db: DB, rt: RuntimeDep,
                      admin: Admin) -> ReviewOut:
    return ReviewOut.model_validate(await reviews.hide(db, rt, admin, review_id, body.reason))
