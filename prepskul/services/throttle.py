"""Durable rate limits: the GCRA state of each key lives in Postgres (`rate_limits`), so
every `serve` process shares one budget per person and a restart forgets nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from prepskul.db.models import RateLimit
from prepskul.domain.throttle import Admission, Rate, admit
from prepskul.runtime import Runtime


async def spend(rt: Runtime, key: str, rate: Rate) -> Admission:
    """Count one attempt against `key`, in a transaction of its own on the side pool (see
    `Runtime.side_sessions`): an attempt counts even when the request it belongs to then
    fails and rolls back."""
    now = rt.clock.now()
    async with rt.side_sessions.begin() as db:
        await db.execute(insert(RateLimit).values(key=key, tat=now)
                         .on_conflict_do_nothing(index_elements=["key"]))
        row = (await db.scalars(
            select(RateLimit).where(RateLimit.key == key).with_for_update())).one()
        admission = admit(row.tat, now, rate)
        row.tat = admission.tat
    return admission


async def forget_idle(rt: Runtime, now: datetime) -> int:
    """Keys whose state is in the past are as good as new: drop their rows."""
    async with rt.sessions.begin() as db:
        result = await db.execute(delete(RateLimit).where(RateLimit.tat < now))
    return int(result.rowcount)  # type: ignore[attr-defined]
