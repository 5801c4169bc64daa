"""Moves by agreement (`domain.moves`): propose a new time, accept, decline. The proposed
slot is held in `time_holds` (purpose `move`) from the proposal to its answer; accepting
swaps the holds in one transaction. A proposal's record and its expiry live a floor below,
in `services.proposals`, with the lapsing of held time (`services.lapses`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import MoveProposal, ParentLink, Profile, TimeHold, TutoringSession
from prepskul.domain import lifecycle
from prepskul.domain.booking import Slot, slot_taken
from prepskul.domain.errors import InvalidInput, NotFound
from prepskul.domain.holds import HoldPurpose, check_hold
from prepskul.domain.moves import (
    MoveRules,
    ProposalState,
    Side,
    answer_by,
    check_answerer,
    check_movable,
    check_no_pending,
    check_pending,
)
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import feed, holds, notifications, proposals
from prepskul.services.access import session_for
from prepskul.services.availability import check_booking
from prepskul.services.lapses import release_lapsed
from prepskul.services.people import get_tutor


def move_rules(rt: Runtime) -> MoveRules:
    return MoveRules(answer_window=timedelta(hours=rt.settings.move_answer_hours))


async def side_of(db: AsyncSession, person: Profile, session: TutoringSession) -> Side | None:
    """Which party `person` speaks for: the tutor, or the learner's side (student, booker,
    the student's parents). None for anyone else, operators included."""
    if person.id == session.tutor_id:
        return Side.TUTOR
    if person.id in (session.student_id, session.booked_by_id):
        return Side.LEARNER
    parent = await db.scalar(select(ParentLink.parent_id).where(
        ParentLink.parent_id == person.id, ParentLink.student_id == session.student_id,
        ParentLink.active()))
    return Side.LEARNER if parent is not None else None


async def proposals_of(db: AsyncSession, session_id: uuid.UUID) -> list[MoveProposal]:
    return list((await db.scalars(select(MoveProposal).where(
        MoveProposal.session_id == session_id,
    ).order_by(MoveProposal.created_at.desc(), MoveProposal.id))).all())


def length_kept(session: TutoringSession, minutes: int | None) -> int:
    length = Slot(session.starts_at, session.ends_at).minutes
    if minutes is not None and minutes != length:
        raise InvalidInput(
            "invalid_duration", f"A session keeps its length ({length} minutes) when it moves.")
    return length


async def propose(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
    starts_at: datetime, minutes: int | None = None,
) -> MoveProposal:
    """Hold the proposed slot tentatively and ask the other party. Refused, with nothing
    written, when the session cannot move, a proposal already waits, the slot is outside
    the tutor's hours or taken."""
    session = await session_for(db, actor, session_id, lock=True)
    side = await side_of(db, actor, session)
    if side is None:  # an operator: moves directly instead
        raise InvalidInput("operator_moves_directly",
                           "Operators move a session directly (POST …/reschedule).")
    check_movable(session.status)
    now = rt.clock.now()
    check_hold(session.hold_expires_at, now)
    check_no_pending(await proposals.pending_for(db, session.id) is not None)
    length = length_kept(session, minutes)
    tutor = await get_tutor(db, session.tutor_id)
    slot = await check_booking(db, rt, tutor, starts_at, length, ignore=session.id)
    await release_lapsed(db, rt, session.tutor_id, slot.starts_at, slot.ends_at)
    expires = answer_by(now, session.starts_at, slot.starts_at, move_rules(rt))
    proposal = MoveProposal(
        id=uuid.uuid4(), session_id=session.id, proposed_by_id=actor.id, proposer_side=side,
        starts_at=slot.starts_at, ends_at=slot.ends_at, state=ProposalState.PENDING,
        expires_at=expires)
    hold = TimeHold(tutor_id=session.tutor_id, purpose=HoldPurpose.MOVE, session_id=session.id,
                    starts_at=slot.starts_at, ends_at=slot.ends_at, expires_at=expires)
    if not await holds.claim(db, lambda: db.add_all([proposal, hold])):
        raise slot_taken()
    await feed.record_change(db, session, "session.move_proposed",
                             proposal_id=str(proposal.id), starts_at=slot.starts_at.isoformat())
    await proposals.tell(db, rt, session, proposal, "move_proposed", others_than=side)
    return proposal


async def accept(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
    proposal_id: uuid.UUID,
) -> TutoringSession:
    """The session takes the proposed slot: the tentative hold goes and the session's own
    row follows it (by trigger) in this transaction; the Calendar event moves by job."""
    session, proposal = await _answerable(db, rt, actor, session_id, proposal_id)
    check_movable(session.status)
    check_hold(session.hold_expires_at, rt.clock.now())
    proposals.close(proposal, ProposalState.ACCEPTED, actor, rt.clock.now())
    await proposals.drop_hold(db, session.id)
    await move_to(db, rt, session, Slot(proposal.starts_at, proposal.ends_at))
    return session


async def move_to(db: AsyncSession, rt: Runtime, session: TutoringSession, slot: Slot) -> None:
    """Put the session in `slot` (already checked against the tutor's hours), move its
    Calendar event by job and tell everyone; `slot_taken` if the time went meanwhile."""

    def move() -> None:
        session.starts_at, session.ends_at = slot.starts_at, slot.ends_at
        if session.hold_expires_at is not None:  # a tentative hold never outlives the start
            session.hold_expires_at = min(session.hold_expires_at, slot.starts_at)

    if not await holds.claim(db, move):
        raise slot_taken()
    occasion = slot.starts_at.isoformat()
    if session.calendar_event_id or session.status in lifecycle.AWAITING_LESSON:
        await store.enqueue(
            db, JobKind.UPDATE_MEETING, {"session_id": str(session.id)}, now=rt.clock.now(),
            dedupe_key=f"update_meeting:{session.id}:{occasion}",
        )
    await feed.record_change(db, session, "session.rescheduled")
    await notifications.notify_people(db, rt, session, "rescheduled", occasion=occasion)


async def decline(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
    proposal_id: uuid.UUID,
) -> MoveProposal:
    session, proposal = await _answerable(db, rt, actor, session_id, proposal_id)
    proposals.close(proposal, ProposalState.DECLINED, actor, rt.clock.now())
    await proposals.drop_hold(db, session.id)
    await feed.record_change(db, session, "session.move_declined", proposal_id=str(proposal.id))
    await proposals.tell(db, rt, session, proposal, "move_declined", others_than=None)
    return proposal


async def _answerable(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
    proposal_id: uuid.UUID,
) -> tuple[TutoringSession, MoveProposal]:
    session = await session_for(db, actor, session_id, lock=True)
    proposal = (await db.scalars(select(MoveProposal).where(
        MoveProposal.id == proposal_id, MoveProposal.session_id == session.id,
    ).with_for_update())).first()
    if proposal is None:
        raise NotFound("proposal_not_found", "This session has no proposal with that id.")
    check_pending(proposal.state, proposal.expires_at, rt.clock.now())
    check_answerer(proposal.proposer_side, await side_of(db, actor, session))
    return session, proposal
