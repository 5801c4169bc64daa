"""A move proposal's record and how it ends without an answer: the pending proposal of a
session, closing it (with its held slot), telling the parties, and expiring the proposals
nobody answered — alone by the sweep, in the way of a new claim, or with their session.

Below both `services.moves` (which proposes and answers) and `services.lapses` (which frees
held time that ran out), so neither imports the other's caller."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import MoveProposal, Profile, TimeHold, TutoringSession
from prepskul.domain.holds import HoldPurpose
from prepskul.domain.moves import ProposalState, Side
from prepskul.runtime import Runtime
from prepskul.services import feed, notifications
from prepskul.services.access import audience


async def pending_for(db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
                      ) -> MoveProposal | None:
    query = select(MoveProposal).where(MoveProposal.session_id == session_id,
                                       MoveProposal.state == ProposalState.PENDING)
    if lock:
        query = query.with_for_update()
    return (await db.scalars(query)).first()


def close(proposal: MoveProposal, state: ProposalState, by: Profile | None,
           now: datetime) -> None:
    proposal.state = state
    proposal.answered_by_id = by.id if by else None
    proposal.answered_at = now


async def drop_hold(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(delete(TimeHold).where(TimeHold.session_id == session_id,
                                            TimeHold.purpose == HoldPurpose.MOVE))


async def tell(db: AsyncSession, rt: Runtime, session: TutoringSession,
                proposal: MoveProposal, kind: str, *, others_than: Side | None) -> None:
    """A proposal goes to the other party; its answer or expiry to everyone concerned."""
    concerned = await audience(db, session)
    if others_than is Side.LEARNER:
        concerned = [session.tutor_id]
    elif others_than is Side.TUTOR:
        concerned = [p for p in concerned if p != session.tutor_id]
    await notifications.notify_people(db, rt, session, kind, occasion=str(proposal.id),
                                      to=concerned)


async def _expire(db: AsyncSession, rt: Runtime, proposal: MoveProposal) -> None:
    session = await db.get(TutoringSession, proposal.session_id)
    assert session is not None  # the proposal cascades away with its session
    close(proposal, ProposalState.EXPIRED, None, rt.clock.now())
    await drop_hold(db, session.id)
    await feed.record_change(db, session, "session.move_expired", proposal_id=str(proposal.id))
    await tell(db, rt, session, proposal, "move_expired", others_than=None)


async def close_with_session(db: AsyncSession, rt: Runtime, session: TutoringSession) -> None:
    """A session that ends (cancelled, lapsed) takes its pending proposal with it, so the
    proposed slot is free at once rather than when the proposal would have expired. No
    separate message: the session's own end is what people are told."""
    proposal = await pending_for(db, session.id, lock=True)
    if proposal is not None:
        close(proposal, ProposalState.EXPIRED, None, rt.clock.now())
        await drop_hold(db, session.id)


async def release_expired(db: AsyncSession, rt: Runtime, tutor_id: uuid.UUID,
                          starts_at: datetime, ends_at: datetime) -> None:
    """Expire the unanswered proposals whose held slot is in the way of a new claim (the
    sweep may not have run yet)."""
    found = await db.scalars(select(MoveProposal).join(
        TimeHold, (TimeHold.session_id == MoveProposal.session_id)
        & (TimeHold.purpose == HoldPurpose.MOVE),
    ).where(
        MoveProposal.state == ProposalState.PENDING,
        MoveProposal.expires_at <= rt.clock.now(),
        TimeHold.tutor_id == tutor_id, TimeHold.starts_at < ends_at,
        TimeHold.ends_at > starts_at,
    ).with_for_update(of=MoveProposal))
    for proposal in list(found):
        await _expire(db, rt, proposal)


async def sweep_expired(rt: Runtime) -> int:
    """Expire every unanswered proposal whose window closed: nothing about the session
    changes; the proposed slot is free again."""
    async with rt.sessions.begin() as db:
        found = list((await db.scalars(select(MoveProposal).where(
            MoveProposal.state == ProposalState.PENDING,
            MoveProposal.expires_at <= rt.clock.now(),
        ).order_by(MoveProposal.expires_at).limit(500)
            .with_for_update(skip_locked=True))).all())
        for proposal in found:
            await _expire(db, rt, proposal)
    return len(found)
