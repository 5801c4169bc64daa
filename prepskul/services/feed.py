"""Change events and notifications, written in the transaction that makes the change.

A `change_events` row is announced by a trigger's NOTIFY, which Postgres delivers only on
commit: a rolled-back change is never published. Notifications are jobs with dedupe keys,
so a retried transition or a resent webhook never notifies anyone twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ChangeEvent, TutoringSession
from prepskul.jobs import queue
from prepskul.runtime import Runtime
from prepskul.services.access import audience


def session_event_data(session: TutoringSession) -> dict[str, Any]:
    return {
        "status": session.status,
        "meet_state": session.meet_state,
        "meet_link": session.meet_link,
        "recording_state": session.recording_state,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
    }


async def record_change(
    db: AsyncSession, session: TutoringSession, type_: str, **extra: Any
) -> None:
    await db.flush()
    db.add(
        ChangeEvent(
            type=type_,
            session_id=session.id,
            audience=await audience(db, session),
            data={**session_event_data(session), **extra},
        )
    )


async def notify_people(
    db: AsyncSession, rt: Runtime, session: TutoringSession, kind: str, *, occasion: str = ""
) -> None:
    """One `notify` job per person concerned. `occasion` distinguishes repeats of one kind
    (a second reschedule is news; a resend of the first is not)."""
    for user_id in await audience(db, session):
        await queue.enqueue(
            db,
            "notify",
            {"user_id": str(user_id), "session_id": str(session.id), "kind": kind},
            now=rt.clock.now(),
            dedupe_key=f"notify:{kind}:{session.id}:{user_id}:{occasion}",
        )
