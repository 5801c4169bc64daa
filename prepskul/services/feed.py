"""Change events, written in the transaction that makes the change.

A `change_events` row is announced by a trigger's NOTIFY, which Postgres delivers only on
commit: a rolled-back change is never published.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ChangeEvent, TutoringSession
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
) -> list[uuid.UUID]:
    """Record the change for everyone it concerns; returns who that is (so telling them
    need not ask again)."""
    await db.flush()
    concerned = await audience(db, session)
    db.add(
        ChangeEvent(
            type=type_,
            session_id=session.id,
            audience=concerned,
            data={**session_event_data(session), **extra},
        )
    )
    return concerned


def record_private(db: AsyncSession, type_: str, people: Iterable[uuid.UUID],
                   data: dict[str, Any], *, session_id: uuid.UUID | None = None) -> None:
    """A change only `people` may see (and operators, who see everything): a notification,
    a tutor's approval, a balance or a payout — never the other party's money."""
    db.add(ChangeEvent(type=type_, session_id=session_id, audience=list(people), data=data))
