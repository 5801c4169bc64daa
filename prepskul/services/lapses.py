"""Held time that ran out: an unpaid or unapproved session whose hold lapsed expires (its
open checkout links closed at Fapshi, credit set aside given back, people told), and the
proposed moves nobody answered expire with it — at the minutely sweep, or at once when
they stand in the way of a new claim (booking, a move, a payment)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Payment, TutoringSession
from prepskul.domain import lifecycle
from prepskul.domain.holds import Lapse, lapse_reason
from prepskul.domain.lifecycle import Event
from prepskul.domain.payments import OPEN_PAYMENT
from prepskul.domain.policy import Outcome
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import feed, holds, money, notifications, proposals, throttle
from prepskul.services.access import audience


async def release_lapsed(
    db: AsyncSession, rt: Runtime, tutor_id: uuid.UUID, starts_at: datetime, ends_at: datetime
) -> None:
    """Lapse the holds that are up in a slot about to be taken (the sweep may not have run):
    unpaid bookings, and proposed moves nobody answered."""
    for session in await holds.lapsed(db, rt.clock.now(), tutor_id=tutor_id,
                                      starts_at=starts_at, ends_at=ends_at):
        await lapse(db, rt, session)
    await proposals.release_expired(db, rt, tutor_id, starts_at, ends_at)


async def sweep_lapsed(rt: Runtime) -> int:
    """Lapse every hold whose time is up. A hold never outlives its session's start, so this
    also expires every session whose start passed unpaid or unapproved."""
    async with rt.sessions.begin() as db:
        found = await holds.lapsed(db, rt.clock.now())
        for session in found:
            await lapse(db, rt, session)
    await throttle.forget_idle(rt, rt.clock.now())
    return len(found)


async def lapse(db: AsyncSession, rt: Runtime, session: TutoringSession) -> None:
    """A tentative hold ran out: the session expires, its time is free again (the trigger
    drops its row), an open checkout link is closed at Fapshi so nobody pays for it, and the
    booker is told — the tutor too when it was their answer that was awaited."""
    reason = lapse_reason(session.status)
    session.status = lifecycle.transition(session.status, Event.EXPIRE)
    await proposals.close_with_session(db, rt, session)
    await close_open_payments(db, rt, session)
    await money.settle(db, rt, session, Outcome.CANCELLED)  # credit set aside goes back
    await feed.record_change(db, session, "session.expired", reason=reason.value)
    concerned = await audience(db, session)
    if reason is Lapse.PAYMENT:  # the tutor was waiting on nothing
        concerned = [p for p in concerned if p != session.tutor_id]
    await notifications.notify_people(db, rt, session, reason.value, to=concerned)


async def close_open_payments(db: AsyncSession, rt: Runtime, session: TutoringSession) -> None:
    """Expire open checkout links at Fapshi so nobody pays for a dead session."""
    open_payments = await db.scalars(
        select(Payment).where(
            Payment.session_id == session.id, Payment.status.in_(OPEN_PAYMENT)
        )
    )
    for payment in open_payments:
        await store.enqueue(db, JobKind.EXPIRE_PAYMENT, {"trans_id": payment.trans_id},
                            now=rt.clock.now(), dedupe_key=f"expire_payment:{payment.trans_id}")
