"""`notify`: one person, one occasion. Writes the in-app notification (unique per dedupe
key, so a redone job changes nothing) and records it on the change feed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from prepskul.db.models import ChangeEvent, Notification, Profile, TutoringSession
from prepskul.jobs.errors import GiveUp
from prepskul.jobs.worker import JobContext
from prepskul.services.messages import render


async def notify(ctx: JobContext, payload: dict[str, Any]) -> None:
    user_id = uuid.UUID(payload["user_id"])
    session_id = uuid.UUID(payload["session_id"])
    kind = str(payload["kind"])
    async with ctx.rt.sessions.begin() as db:
        person = await db.get(Profile, user_id)
        session = await db.get(TutoringSession, session_id)
        if person is None or session is None:
            raise GiveUp("the person or the session no longer exists")
        title, body = render(kind, person.language, session, person.time_zone)
        created = await db.execute(
            insert(Notification)
            .values(user_id=user_id, session_id=session_id, kind=kind, title=title, body=body,
                    data={"status": session.status}, dedupe_key=f"job:{ctx.job.id}")
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Notification.id)
        )
        notification_id = created.scalar_one_or_none()
        if notification_id is not None:
            db.add(ChangeEvent(type="notification.created", session_id=session_id,
                               audience=[user_id],
                               data={"notification_id": str(notification_id), "kind": kind,
                                     "title": title}))
