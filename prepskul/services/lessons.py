"""Sandbox only: "the lesson happened" — the fake Fathom records a session and posts its
notes, as the real one would after a Meet call. Used by the demo's page and the tests."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Profile
from prepskul.domain.errors import Conflict
from prepskul.runtime import Runtime
from prepskul.services.access import session_for
from prepskul.services.meetings import title

if TYPE_CHECKING:  # the fakes stay unloaded in production
    from prepskul.sandbox.fathom import FakeFathom


async def record_lesson(db: AsyncSession, rt: Runtime, fathom: FakeFathom, user: Profile,
                        session_id: uuid.UUID) -> int:
    """The fake Fathom records the session and posts its notes; the recording id."""
    session = await session_for(db, user, session_id)
    if not session.meet_link:
        raise Conflict("no_meet_link", "This session has no Meet link, so Fathom cannot join.")
    tutor = await db.get(Profile, session.tutor_id)
    student = await db.get(Profile, session.student_id)
    assert tutor is not None and student is not None
    meeting = fathom.record(
        title=title(session), meeting_url=session.meet_link, starts_at=session.starts_at,
        ends_at=session.ends_at, tutor=(tutor.full_name, tutor.email or ""),
        student=(student.full_name, student.email or ""),
        va=("PrepSkul VA", rt.settings.va_email),
    )
    return int(meeting["recording_id"])
