"""Held tutor time (`time_holds`): taking it under the exclusion constraint, finding holds
whose time is up, and counting a booker's open tentative holds.

A session's row is kept by a database trigger (see `db.models.holds`), so these functions
change sessions and let the database follow; a move proposal or a plan reservation will
insert rows of its own purpose and lapse through the same `lapsed` query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Profile, TimeHold, TutoringSession
from prepskul.domain.holds import TENTATIVE, HoldPurpose, HoldRules
from prepskul.domain.lifecycle import Status
from prepskul.runtime import Runtime

EXCLUSION_VIOLATION = "23P01"


def hold_rules(rt: Runtime) -> HoldRules:
    s = rt.settings
    return HoldRules(
        payment_window=timedelta(minutes=s.hold_payment_minutes),
        approval_window=timedelta(hours=s.hold_approval_hours),
        approval_reminder=timedelta(hours=s.approval_reminder_hours),
        max_open_unpaid=s.max_open_unpaid_bookings,
    )


async def claim(db: AsyncSession, change: Callable[[], object]) -> bool:
    """Make `change` (a session booked, moved or paid late) in a savepoint: False, with the
    change undone and the rest of the transaction intact, when the tutor's time is taken.

    The exclusion constraint is the real guard: of two concurrent claims on one slot, the
    database lets exactly one commit. What was pending before is flushed first, outside the
    savepoint, so only this change can be the one refused."""
    await db.flush()
    try:
        async with db.begin_nested():
            change()
            await db.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            return False
        raise
    return True


def _overlapping(tutor_id: uuid.UUID, starts_at: datetime, ends_at: datetime) -> list[object]:
    return [
        TimeHold.tutor_id == tutor_id,
        func.tstzrange(TimeHold.starts_at, TimeHold.ends_at).op("&&")(
            func.tstzrange(starts_at, ends_at)),
    ]


async def lapsed(
    db: AsyncSession, now: datetime, *, tutor_id: uuid.UUID | None = None,
    starts_at: datetime | None = None, ends_at: datetime | None = None, limit: int = 500,
) -> list[TutoringSession]:
    """Sessions whose tentative hold is up, locked for lapsing: all of them (the sweep), or
    those in one tutor's slot (a booking about to take it, so a lapsed hold never blocks it,
    swept or not).

    Sessions are locked before their hold rows are touched, in the same order as the sweep,
    so a booking and the sweep cannot deadlock; the sweep skips rows another transaction is
    already lapsing, a booking waits for it and then finds the row gone."""
    query = (
        select(TutoringSession)
        .join(TimeHold, (TimeHold.session_id == TutoringSession.id)
              & (TimeHold.purpose == HoldPurpose.SESSION))
        .where(TimeHold.expires_at <= now, TutoringSession.status.in_(TENTATIVE))
        .order_by(TimeHold.expires_at, TutoringSession.id)
        .limit(limit)
    )
    sweep = tutor_id is None
    if not sweep:
        assert tutor_id is not None and starts_at is not None and ends_at is not None
        query = query.where(*_overlapping(tutor_id, starts_at, ends_at))  # type: ignore[arg-type]
    return list((await db.scalars(
        query.with_for_update(of=TutoringSession, skip_locked=sweep))).all())


async def lock_booker(db: AsyncSession, booker: Profile) -> None:
    """One booking at a time per booker, so the cap on open holds cannot be raced past."""
    await db.execute(select(Profile.id).where(Profile.id == booker.id).with_for_update())


async def open_unpaid(db: AsyncSession, booker_id: uuid.UUID, now: datetime) -> int:
    """The booker's sessions still holding time while awaiting payment or approval (lapsed
    ones no longer count, swept or not)."""
    count = await db.scalar(
        select(func.count()).select_from(TutoringSession).where(
            TutoringSession.booked_by_id == booker_id,
            TutoringSession.status.in_(TENTATIVE),
            TutoringSession.hold_expires_at > now,
        ))
    return int(count or 0)


async def requests_near_lapse(db: AsyncSession, now: datetime, rules: HoldRules
                              ) -> list[TutoringSession]:
    """Requests whose approval window closes within the reminder's lead time."""
    return list((await db.scalars(select(TutoringSession).where(
        TutoringSession.status == Status.REQUESTED,
        TutoringSession.hold_expires_at > now,
        TutoringSession.hold_expires_at <= now + rules.approval_reminder,
    ))).all())
