"""Operators' decisions about money, recorded beside the change they make: who, when, what
and why. Append-only (the database refuses updates and deletes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import OperatorAction, Profile
from prepskul.domain.errors import InvalidInput
from prepskul.runtime import Runtime


def reason_given(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("reason_required", "Say why: it is kept with the decision.")
    return reason.strip()


async def record(
    db: AsyncSession, rt: Runtime, actor: Profile, action: str, subject: str, reason: str,
    **data: Any,
) -> OperatorAction:
    entry = OperatorAction(actor_id=actor.id, action=action, subject=subject,
                           reason=reason_given(reason), data=data, at=rt.clock.now())
    db.add(entry)
    await db.flush()
    return entry


async def recent(db: AsyncSession, limit: int) -> list[OperatorAction]:
    return list((await db.scalars(
        select(OperatorAction).order_by(OperatorAction.id.desc()).limit(limit))).all())
