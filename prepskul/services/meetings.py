"""Google Calendar events with Meet links for paid sessions: create, move, cancel.

Calls to Google are made outside any transaction; each result is then written in a short
one. The event id is derived from the session, so however often the job runs or crashes
midway, Google holds one event per session."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul import metrics
from prepskul.db.models import Profile, TutoringSession
from prepskul.domain.lifecycle import AWAITING_LESSON, Event, MeetState, RecordingState, Status
from prepskul.domain.pricing import Kind
from prepskul.providers.google_calendar.models import event_body, event_id_for, when
from prepskul.queue import store
from prepskul.queue.errors import RetryLater
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import feed, notifications
from prepskul.services.booking import apply
from prepskul.services.links import session_url


async def _load(db: AsyncSession, session_id: uuid.UUID) -> TutoringSession:
    session = await db.get(TutoringSession, session_id, with_for_update=True)
    if session is None:
        raise LookupError(f"session {session_id} does not exist")
    return session


def title(session: TutoringSession) -> str:
    kind = "Trial Session" if session.kind == Kind.TRIAL else "Session"
    return f"{kind}: {session.subject}"


async def create_meeting(rt: Runtime, session_id: uuid.UUID, *,
                         paid_at: datetime | None = None) -> str:
    """Make the session's Calendar event and wait (briefly) for its Meet link. `paid_at`:
    when its payment became known; the time from there to the link is observed."""
    async with rt.sessions() as db:
        session = await db.get(TutoringSession, session_id)
        if session is None or session.status not in AWAITING_LESSON:
            return "session no longer needs a meeting"
        if session.meet_state == MeetState.READY:
            return "already has its Meet link"
        invited = (session.tutor_id, session.student_id, session.booked_by_id)
        emails = dict((await db.execute(
            select(Profile.id, Profile.email).where(Profile.id.in_(invited)))).all())
        page = session_url(rt.settings, session.id)
        body = event_body(
            event_id=event_id_for(str(session.id)), summary=title(session),
            description=f"PrepSkul session page: {page}", starts_at=session.starts_at,
            ends_at=session.ends_at, time_zone=session.time_zone,
            attendees=[email for pid in invited if (email := emails.get(pid))],
            va_email=rt.settings.va_email, request_id=uuid.uuid4().hex,
        )
    settled = ""
    event = await rt.calendar.insert_event(body)  # 409 on a retry: the existing event
    # Bounded inside the job (1.5 s of waiting by default); still pending → retried later.
    event, conference = await rt.calendar.await_conference(
        event, base_delay=rt.settings.meet_poll_base_seconds)
    async with rt.sessions.begin() as db:
        session = await _load(db, session_id)
        session.calendar_event_id = event["id"]  # kept even while pending: a cancel finds it
        if session.status not in AWAITING_LESSON:  # cancelled while we were talking to Google
            await store.enqueue(db, JobKind.CANCEL_MEETING, {"session_id": str(session.id)},
                                now=rt.clock.now(), dedupe_key=f"cancel_meeting:{session.id}:late")
            return "the session ended meanwhile: its event is being cancelled"
        if conference.state != "pending":
            await _settle(db, rt, session, conference.link)
            settled = f"conference {conference.state}"
    if settled:
        if paid_at is not None and conference.link:
            metrics.PAYMENT_TO_MEET.observe(max(0.0, (rt.clock.now() - paid_at).total_seconds()))
        return settled
    raise RetryLater("Google is still creating the Meet conference", after=15)


async def _settle(
    db: AsyncSession, rt: Runtime, session: TutoringSession, link: str | None
) -> None:
    if link is None:
        # No conference: operators must give the session a link; nobody is told of a
        # link that does not exist.
        session.meet_state = MeetState.FAILED
        await feed.record_change(db, session, "meet.failed")
        return
    session.meet_link, session.meet_state = link, MeetState.READY
    session.recording_state = RecordingState.AWAITING  # Fathom will join this link
    if session.status == Status.PAID:
        apply(session, Event.MEETING_CREATED)
    concerned = await feed.record_change(db, session, "meet.ready")
    await notifications.notify_people(db, rt, session, "meet_ready", to=concerned)


async def mark_meet_failed(rt: Runtime, session_id: uuid.UUID, reason: str) -> None:
    """A permanent refusal from Google: leave a visible state for operators."""
    async with rt.sessions.begin() as db:
        session = await _load(db, session_id)
        if session.meet_state != MeetState.READY:
            session.meet_state = MeetState.FAILED
            await feed.record_change(db, session, "meet.failed", reason=reason[:300])


async def update_meeting(rt: Runtime, session_id: uuid.UUID) -> str:
    """Move the event to the session's current times; the Meet link stays."""
    async with rt.sessions() as db:
        session = await db.get(TutoringSession, session_id)
        if session is None:
            return "no such session"
        if not session.calendar_event_id:
            if session.status in AWAITING_LESSON:
                raise RetryLater("the event is not created yet", after=30)
            return "no event to move"
        body = when(session.starts_at, session.ends_at, session.time_zone)
        event_id = session.calendar_event_id
    await rt.calendar.patch_event(event_id, body)
    return "moved"


async def cancel_meeting(rt: Runtime, session_id: uuid.UUID) -> str:
    async with rt.sessions() as db:
        session = await db.get(TutoringSession, session_id)
        event_id = event_id_for(str(session_id)) if session else None
    if event_id is None:
        return "no such session"
    await rt.calendar.delete_event(event_id)  # 404/410: nothing there, which is the goal
    async with rt.sessions.begin() as db:
        session = await _load(db, session_id)
        if session.status not in AWAITING_LESSON and (session.meet_link or session.meet_state):
            # The event is gone: its link leads nowhere and Fathom will not come.
            session.meet_link, session.meet_state = None, MeetState.CANCELLED
            if session.recording_state == RecordingState.AWAITING:
                session.recording_state = None
            await feed.record_change(db, session, "meet.cancelled")
    return "cancelled"
