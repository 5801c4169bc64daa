"""Booking API: create, list, get, approve, decline, cancel, reschedule (operators, and
unpaid sessions), moves by agreement (proposals, accepted or declined)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.api.schemas import (
    BookingIn,
    Instant,
    ProposalIn,
    ProposalOut,
    ReasonIn,
    RescheduleIn,
    SessionOut,
    SessionPage,
)
from prepskul.db.models import TutoringSession
from prepskul.domain.lifecycle import Status
from prepskul.services import booking, moves, payments
from prepskul.services.access import session_for

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


async def shaped(db: AsyncSession, session: TutoringSession) -> SessionOut:
    """The session with its latest payment attempt."""
    return SessionOut.of(session, await payments.latest_payment(db, session.id))


@router.post("", status_code=201, response_model=SessionOut,
             responses=errors(403, 404, 409, 429))
async def book(body: BookingIn, db: DB, rt: RuntimeDep, user: User) -> SessionOut:
    session = await booking.book(db, rt, user, booking.BookingRequest(**body.model_dump()))
    return await shaped(db, session)


@router.get("", response_model=SessionPage)
async def list_sessions(
    db: DB, user: User,
    status: Annotated[list[Status] | None, Query()] = None,
    starts_after: Instant | None = None,
    starts_before: Instant | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionPage:
    rows, next_cursor = await booking.list_sessions(
        db, user, status=[s.value for s in status] if status else None,
        starts_after=starts_after, starts_before=starts_before, cursor=cursor, limit=limit,
    )
    latest = await payments.latest_payments(db, [s.id for s in rows])  # one query, not one each
    return SessionPage(items=[SessionOut.of(s, latest.get(s.id)) for s in rows],
                       next_cursor=next_cursor)


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(session_id: uuid.UUID, db: DB, user: User) -> SessionOut:
    return await shaped(db, await session_for(db, user, session_id))


@router.post("/{session_id}/approve", response_model=SessionOut, responses=errors(409))
async def approve(session_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> SessionOut:
    return await shaped(db, await booking.approve(db, rt, user, session_id))


@router.post("/{session_id}/decline", response_model=SessionOut, responses=errors(409))
async def decline(
    session_id: uuid.UUID, body: ReasonIn, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    return await shaped(db, await booking.decline(db, rt, user, session_id, body.reason))


@router.post("/{session_id}/cancel", response_model=SessionOut, responses=errors(409))
async def cancel(
    session_id: uuid.UUID, body: ReasonIn, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    return await shaped(db, await booking.cancel(db, rt, user, session_id, body.reason))


@router.post("/{session_id}/reschedule", response_model=SessionOut, responses=errors(409))
async def reschedule(
    session_id: uuid.UUID, body: RescheduleIn, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    session = await booking.reschedule(db, rt, user, session_id, body.starts_at, body.minutes)
    return await shaped(db, session)


@router.get("/{session_id}/proposals", response_model=list[ProposalOut])
async def proposals(session_id: uuid.UUID, db: DB, user: User) -> list[ProposalOut]:
    """Every move proposed for the session, newest first (answered ones stay as record)."""
    session = await session_for(db, user, session_id)
    return [ProposalOut.model_validate(p) for p in await moves.proposals_of(db, session.id)]


@router.post("/{session_id}/proposals", status_code=201, response_model=ProposalOut)
async def propose(
    session_id: uuid.UUID, body: ProposalIn, db: DB, rt: RuntimeDep, user: User
) -> ProposalOut:
    proposal = await moves.propose(db, rt, user, session_id, body.starts_at, body.minutes)
    return ProposalOut.model_validate(proposal)


@router.post("/{session_id}/proposals/{proposal_id}/accept", response_model=SessionOut)
async def accept_proposal(
    session_id: uuid.UUID, proposal_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    return await shaped(db, await moves.accept(db, rt, user, session_id, proposal_id))


@router.post("/{session_id}/proposals/{proposal_id}/decline", response_model=ProposalOut)
async def decline_proposal(
    session_id: uuid.UUID, proposal_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User
) -> ProposalOut:
    return ProposalOut.model_validate(
        await moves.decline(db, rt, user, session_id, proposal_id))
