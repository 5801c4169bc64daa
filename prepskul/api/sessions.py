"""Booking API: create, list, get, approve, decline, cancel, reschedule."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import BookingIn, ReasonIn, RescheduleIn, SessionOut, SessionPage
from prepskul.db.models import TutoringSession
from prepskul.services import booking, payments
from prepskul.services.access import session_for

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


async def shaped(db: AsyncSession, session: TutoringSession) -> SessionOut:
    """The session with its latest payment attempt."""
    return SessionOut.of(session, await payments.latest_payment(db, session.id))


@router.post("", status_code=201, response_model=SessionOut)
async def book(body: BookingIn, db: DB, rt: RuntimeDep, user: User) -> SessionOut:
    session = await booking.book(db, rt, user, booking.BookingRequest(**body.model_dump()))
    return await shaped(db, session)


@router.get("", response_model=SessionPage)
async def list_sessions(
    db: DB, user: User,
    status: Annotated[list[str] | None, Query()] = None,
    starts_after: datetime | None = None,
    starts_before: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionPage:
    rows, next_cursor = await booking.list_sessions(
        db, user, status=status, starts_after=starts_after, starts_before=starts_before,
        cursor=cursor, limit=limit,
    )
    latest = await payments.latest_payments(db, [s.id for s in rows])  # one query, not one each
    return SessionPage(items=[SessionOut.of(s, latest.get(s.id)) for s in rows],
                       next_cursor=next_cursor)


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(session_id: uuid.UUID, db: DB, user: User) -> SessionOut:
    return await shaped(db, await session_for(db, user, session_id))


@router.post("/{session_id}/approve", response_model=SessionOut)
async def approve(session_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> SessionOut:
    return await shaped(db, await booking.approve(db, rt, user, session_id))


@router.post("/{session_id}/decline", response_model=SessionOut)
async def decline(
    session_id: uuid.UUID, body: ReasonIn, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    return await shaped(db, await booking.decline(db, rt, user, session_id, body.reason))


@router.post("/{session_id}/cancel", response_model=SessionOut)
async def cancel(
    session_id: uuid.UUID, body: ReasonIn, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    return await shaped(db, await booking.cancel(db, rt, user, session_id, body.reason))


@router.post("/{session_id}/reschedule", response_model=SessionOut)
async def reschedule(
    session_id: uuid.UUID, body: RescheduleIn, db: DB, rt: RuntimeDep, user: User
) -> SessionOut:
    session = await booking.reschedule(db, rt, user, session_id, body.starts_at, body.minutes)
    return await shaped(db, session)
