"""Sandbox-only actions for the demo and tests: "the lesson happened" (the fake Fathom
records the session and posts its webhook). Never mounted in production."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.db.models import Profile
from prepskul.domain.errors import Conflict
from prepskul.runtime import Runtime
from prepskul.sandbox.mount import Sandbox
from prepskul.services.access import session_for
from prepskul.services.meetings import title

router = APIRouter(prefix="/api/sandbox", tags=["sandbox"])


async def record_lesson(db: AsyncSession, rt: Runtime, sandbox: Sandbox, user: Profile,
                        session_id: uuid.UUID) -> int:
    """The fake Fathom records the session and posts its notes; the recording id."""
    session = await session_for(db, user, session_id)
    if not session.meet_link:
        raise Conflict("no_meet_link", "This session has no Meet link, so Fathom cannot join.")
    tutor = await db.get(Profile, session.tutor_id)
    student = await db.get(Profile, session.student_id)
    assert tutor is not None and student is not None
    meeting = sandbox.fathom.record(
        title=title(session), meeting_url=session.meet_link, starts_at=session.starts_at,
        ends_at=session.ends_at, tutor=(tutor.full_name, tutor.email or ""),
        student=(student.full_name, student.email or ""),
        va=("PrepSkul VA", rt.settings.va_email),
    )
    return int(meeting["recording_id"])


@router.post("/sessions/{session_id}/lesson", status_code=202)
async def lesson_happened(
    session_id: uuid.UUID, request: Request, db: DB, rt: RuntimeDep, user: User
) -> dict[str, int]:
    return {"recording_id": await record_lesson(db, rt, request.app.state.sandbox, user,
                                                session_id)}
