"""Sandbox-only actions for the demo and tests: "the lesson happened" (the fake Fathom
records the session and posts its webhook). Never mounted in production."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.services.lessons import record_lesson

router = APIRouter(prefix="/api/sandbox", tags=["sandbox"])


@router.post("/sessions/{session_id}/lesson", status_code=202, responses=errors(409))
async def lesson_happened(
    session_id: uuid.UUID, request: Request, db: DB, rt: RuntimeDep, user: User
) -> dict[str, int]:
    fathom = request.app.state.sandbox.fathom
    return {"recording_id": await record_lesson(db, rt, fathom, user, session_id)}
