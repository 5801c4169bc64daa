"""Booking and the session's life: book, approve, decline, cancel, move directly, list."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Profile, TutoringSession
from prepskul.domain import lifecycle
from prepskul.domain.booking import (
    check_subject,
    needs_approval,
    resolve_student,
    slot_taken,
)
from prepskul.domain.errors import InvalidInput, NotAllowed
from prepskul.domain.holds import (
    check_hold,
    check_open_unpaid,
    hold_until,
)
from prepskul.domain.lifecycle import Event, Status
from prepskul.domain.moves import check_direct_move
from prepskul.domain.people import Role, check_time_zone
from prepskul.domain.policy import Outcome
from prepskul.domain.pricing import Kind, TrialPrices, price_xaf, sibling_price_xaf
from prepskul.domain.throttle import Rate, booking_refused
from prepskul.domain.tutors import check_taking_bookings
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import feed, holds, money, moves, notifications, proposals, throttle
from prepskul.services.access import acts_as_tutor, session_for, visible_to
from prepskul.services.availability import check_booking
from prepskul.services.lapses import close_open_payments, release_lapsed
from prepskul.services.people import children_of, get_tutor


@dataclass(frozen=True)
class BookingRequest:
    tutor_id: uuid.UUID
    subject: str
    starts_at: datetime
    minutes: int
    kind: Kind
    student_id: uuid.UUID | None = None
    time_zone: str | None = None
    note: str | None = None


def trial_prices(rt: Runtime) -> TrialPrices:
    s = rt.settings
    return TrialPrices({30: s.trial_price_30_xaf, 60: s.trial_price_60_xaf})


def booking_rate(rt: Runtime) -> Rate:
    per_hour = rt.settings.booking_attempts_per_hour
    return Rate(per_hour=per_hour, burst=per_hour)


async def book(
    db: AsyncSession, rt: Runtime, booker: Profile, req: BookingRequest
) -> TutoringSession:
    """Book a session. Every attempt is counted against the booker's rate first (it counts
    even if refused below); a booker holds at most a few unpaid or unapproved sessions; a
    lapsed hold in the way is lapsed now rather than at the next sweep."""
    admission = await throttle.spend(rt, f"book:{booker.id}", booking_rate(rt))
    if not admission.allowed:
        raise booking_refused(admission)
    now = rt.clock.now()
    tutor = await get_tutor(db, req.tutor_id)
    children = await children_of(db, booker.id) if booker.role == Role.PARENT else set()
    student_id = resolve_student(
        str(booker.id), booker.role,
        str(req.student_id) if req.student_id else None, children,
    )
    slot = await check_booking(db, rt, tutor, req.starts_at, req.minutes)
    subject = check_subject(req.subject, tutor.subjects)
    price = price_xaf(req.kind, req.minutes, tutor.hourly_rate_xaf, trial_prices(rt))
    price = await family_price(db, rt, booker, uuid.UUID(student_id), slot.starts_at,
                               req.kind, price)
    status = lifecycle.initial_status(needs_approval(req.kind, tutor.requires_approval))
    rules_ = holds.hold_rules(rt)
    await holds.lock_booker(db, booker)
    check_open_unpaid(await holds.open_unpaid(db, booker.id, now), rules_)
    session = TutoringSession(
        id=uuid.uuid4(),
        kind=req.kind,
        tutor_id=tutor.id,
        student_id=uuid.UUID(student_id),
        booked_by_id=booker.id,
        subject=subject,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        time_zone=check_time_zone(req.time_zone or booker.time_zone),
        status=status,
        price_xaf=price,
        hold_expires_at=hold_until(status, now, slot.starts_at, rules_),
        note=req.note,
        policy=money.policy_from(rt.settings).as_record(),
    )
    await release_lapsed(db, rt, tutor.id, slot.starts_at, slot.ends_at)
    if not await holds.claim(db, lambda: db.add(session)):
        raise slot_taken()
    await feed.record_change(db, session, "session.booked")
    await notifications.notify_people(db, rt, session, "booked")
    return session


async def family_price(db: AsyncSession, rt: Runtime, booker: Profile, student_id: uuid.UUID,
                       starts_at: datetime, kind: Kind, price: int) -> int:
    """The price after the sibling discount, when a parent books for a child (booking and
    quote alike)."""
    if booker.role != Role.PARENT:
        return price
    siblings = await siblings_booked(db, booker, student_id, starts_at)
    return sibling_price_xaf(price, kind, rt.settings.sibling_discount_percent, siblings)


async def siblings_booked(db: AsyncSession, parent: Profile, child_id: uuid.UUID,
                          starts_at: datetime) -> int:
    """How many of the parent's other children have a session they booked that still holds
    its time, in the calendar month (the parent's zone) of `starts_at`."""
    zone = ZoneInfo(parent.time_zone)
    local = starts_at.astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = (first + timedelta(days=32)).replace(day=1)
    found = await db.scalar(select(func.count(TutoringSession.student_id.distinct())).where(
        TutoringSession.booked_by_id == parent.id,
        TutoringSession.student_id != child_id,
        TutoringSession.status.in_(lifecycle.HOLDS_SLOT),
        TutoringSession.starts_at >= first, TutoringSession.starts_at < after,
    ))
    return int(found or 0)


async def quote(
    db: AsyncSession, rt: Runtime, tutor_id: uuid.UUID, kind: Kind, minutes: int
) -> int:
    """The price before booking, by the same rule the booking will apply; a tutor not taking
    bookings (pending or suspended) is refused as the booking would be."""
    tutor = await get_tutor(db, tutor_id)
    check_taking_bookings(tutor.tutor_status)
    return price_xaf(kind, minutes, tutor.hourly_rate_xaf, trial_prices(rt))


def apply(session: TutoringSession, event: Event) -> None:
    session.status = lifecycle.transition(session.status, event)


def _require_tutor(actor: Profile, session: TutoringSession) -> None:
    if not acts_as_tutor(actor, session):
        raise NotAllowed("tutor_only", "Only the session's tutor can do this.")


async def approve(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID
) -> TutoringSession:
    session = await session_for(db, actor, session_id, lock=True)
    _require_tutor(actor, session)
    now = rt.clock.now()
    check_hold(session.hold_expires_at, now)
    apply(session, Event.APPROVE)
    # The payment window starts now: the booker could not pay while the tutor was deciding.
    session.hold_expires_at = hold_until(
        Status.AWAITING_PAYMENT, now, session.starts_at, holds.hold_rules(rt))
    await feed.record_change(db, session, "session.approved")
    await notifications.notify_people(db, rt, session, "approved")
    return session


async def decline(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID, reason: str
) -> TutoringSession:
    session = await session_for(db, actor, session_id, lock=True)
    _require_tutor(actor, session)
    if not reason.strip():
        raise InvalidInput("reason_required", "Tell the student why you decline.")
    apply(session, Event.DECLINE)
    session.decline_reason = reason.strip()
    await feed.record_change(db, session, "session.declined", reason=session.decline_reason)
    await notifications.notify_people(db, rt, session, "declined")
    return session


async def cancel(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID, reason: str
) -> TutoringSession:
    session = await session_for(db, actor, session_id, lock=True)
    was = session.status
    apply(session, Event.CANCEL)
    session.cancel_reason = reason.strip() or None
    session.cancelled_by_id = actor.id
    await proposals.close_with_session(db, rt, session)
    now = rt.clock.now()
    if session.calendar_event_id or was in lifecycle.AWAITING_LESSON:
        await store.enqueue(db, JobKind.CANCEL_MEETING, {"session_id": str(session.id)}, now=now,
                            dedupe_key=f"cancel_meeting:{session.id}")
    await close_open_payments(db, rt, session)
    # The money held for it is settled by the policy the booking recorded: the refund to
    # the payer's credit at once, any late-cancellation share to the tutor.
    await money.settle(db, rt, session, Outcome.CANCELLED, money.party(actor, session), was=was)
    await feed.record_change(db, session, "session.cancelled", reason=session.cancel_reason)
    await notifications.notify_people(db, rt, session, "cancelled")
    return session


async def reschedule(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
    starts_at: datetime, minutes: int | None,
) -> TutoringSession:
    """Move a session at once: an operator's move, or the booker's of a session nobody has
    paid for yet. A paid one moves by agreement (`services.moves`)."""
    session = await session_for(db, actor, session_id, lock=True)
    check_direct_move(session.status, operator=actor.role == Role.ADMIN)
    length = moves.length_kept(session, minutes)
    now = rt.clock.now()
    check_hold(session.hold_expires_at, now)  # a move keeps a hold's expiry, never renews it
    tutor = await get_tutor(db, session.tutor_id)
    slot = await check_booking(db, rt, tutor, starts_at, length, ignore=session.id)
    await release_lapsed(db, rt, session.tutor_id, slot.starts_at, slot.ends_at)
    await moves.move_to(db, rt, session, slot)
    return session


def encode_cursor(session: TutoringSession) -> str:
    raw = f"{session.starts_at.isoformat()}|{session.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        when, sid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(when), uuid.UUID(sid)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_cursor", "That page cursor is not one we gave out.") from None


async def list_sessions(
    db: AsyncSession, viewer: Profile, *, status: list[str] | None = None,
    starts_after: datetime | None = None, starts_before: datetime | None = None,
    cursor: str | None = None, limit: int = 50,
) -> tuple[list[TutoringSession], str | None]:
    query = select(TutoringSession).where(visible_to(viewer))
    if status:
        unknown = set(status) - {s.value for s in Status}
        if unknown:
            raise InvalidInput("invalid_status", f"Unknown status: {', '.join(sorted(unknown))}.")
        query = query.where(TutoringSession.status.in_(status))
    if starts_after:
        query = query.where(TutoringSession.starts_at >= starts_after)
    if starts_before:
        query = query.where(TutoringSession.starts_at < starts_before)
    if cursor:
        when, sid = decode_cursor(cursor)
        query = query.where(
            or_(
                TutoringSession.starts_at > when,
                and_(TutoringSession.starts_at == when, TutoringSession.id > sid),
            )
        )
    query = query.order_by(TutoringSession.starts_at, TutoringSession.id).limit(limit + 1)
    rows = list((await db.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more else None
