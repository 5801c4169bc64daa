"""After the lesson: join, the tutor's report, the outcome and its confirmation, reviews."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import FromRow
from prepskul.db.models import LessonOutcome, LessonReport
from prepskul.services import confirmations, outcomes, reviews

router = APIRouter(prefix="/api", tags=["after the lesson"])


class JoinOut(BaseModel):
    meet_link: str


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str = Field(min_length=1, max_length=300)
    learner_present: StrictBool
    notes: str | None = Field(None, max_length=4000)


class ReportOut(FromRow):
    topic: str
    learner_present: bool
    notes: str | None
    submitted_at: datetime


class OutcomeOut(BaseModel):
    session_id: uuid.UUID
    status: str
    outcome: str | None = Field(description="completed, tutor_no_show, student_no_show, "
                                            "disputed, unresolved; null before it is decided")
    tutor_attendance: str | None
    learner_attendance: str | None
    confirm_by: datetime | None
    problem: str | None
    settled_at: datetime | None
    settled_how: str | None
    report: ReportOut | None

    @classmethod
    def of(cls, session_id: uuid.UUID, status: str, row: LessonOutcome | None,
           report: LessonReport | None) -> OutcomeOut:
        return cls(
            session_id=session_id, status=status, outcome=row.outcome if row else None,
            tutor_attendance=row.tutor_mark if row else None,
            learner_attendance=row.learner_mark if row else None,
            confirm_by=row.confirm_by if row else None, problem=row.problem if row else None,
            settled_at=row.settled_at if row else None,
            settled_how=row.settled_how if row else None,
            report=ReportOut.model_validate(report) if report else None)


class ProblemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    problem: str = Field(min_length=1, max_length=2000)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: StrictInt = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply: str = Field(min_length=1, max_length=2000)


class ReviewOut(FromRow):
    id: uuid.UUID
    session_id: uuid.UUID
    tutor_id: uuid.UUID
    rating: int
    comment: str | None
    reply: str | None
    replied_at: datetime | None
    created_at: datetime


async def _outcome(db: DB, user: User, session_id: uuid.UUID) -> OutcomeOut:
    session, row, report = await outcomes.outcome_for(db, user, session_id)
    return OutcomeOut.of(session.id, session.status, row, report)


@router.post("/sessions/{session_id}/join", response_model=JoinOut)
async def join(session_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> JoinOut:
    """Records who joined and when (evidence of attendance); answers the Meet link."""
    return JoinOut(meet_link=await outcomes.join(db, rt, user, session_id))


@router.post("/sessions/{session_id}/report", response_model=OutcomeOut)
async def report(session_id: uuid.UUID, body: ReportIn, db: DB, rt: RuntimeDep, user: User
                 ) -> OutcomeOut:
    await outcomes.report(db, rt, user, session_id, outcomes.ReportIn(**body.model_dump()))
    return await _outcome(db, user, session_id)


@router.get("/sessions/{session_id}/outcome", response_model=OutcomeOut)
async def outcome(session_id: uuid.UUID, db: DB, user: User) -> OutcomeOut:
    return await _outcome(db, user, session_id)


@router.post("/sessions/{session_id}/confirm", response_model=OutcomeOut)
async def confirm(session_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> OutcomeOut:
    await confirmations.confirm(db, rt, user, session_id)
    return await _outcome(db, user, session_id)


@router.post("/sessions/{session_id}/problem", response_model=OutcomeOut)
async def problem(session_id: uuid.UUID, body: ProblemIn, db: DB, rt: RuntimeDep, user: User
                  ) -> OutcomeOut:
    await confirmations.report_problem(db, rt, user, session_id, body.problem)
    return await _outcome(db, user, session_id)


@router.post("/sessions/{session_id}/review", status_code=201, response_model=ReviewOut)
async def review(session_id: uuid.UUID, body: ReviewIn, db: DB, rt: RuntimeDep, user: User
                 ) -> ReviewOut:
    created = await reviews.review(db, rt, user, session_id, body.rating, body.comment)
    return ReviewOut.model_validate(created)


@router.post("/sessions/{session_id}/review/reply", response_model=ReviewOut)
async def reply(session_id: uuid.UUID, body: ReplyIn, db: DB, rt: RuntimeDep, user: User
                ) -> ReviewOut:
    return ReviewOut.model_validate(await reviews.reply(db, rt, user, session_id, body.reply))


@router.get("/tutors/{tutor_id}/reviews", response_model=list[ReviewOut])
async def tutor_reviews(tutor_id: uuid.UUID, db: DB, _: User) -> list[ReviewOut]:
    return [ReviewOut.model_validate(r) for r in await reviews.visible_for_tutor(db, tutor_id)]
