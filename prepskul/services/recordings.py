"""Fathom notes: fill in what the webhook left out, match the recording to its session,
store summary, transcript and action items, complete the session and tell the people.
The same `recording_id` twice acts once (unique column). Unmatched or ambiguous recordings
are kept for an operator, who attaches them with the same code path."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ActionItem, Profile, Recording, TutoringSession
from prepskul.domain.attendance import attendance
from prepskul.domain.errors import Conflict, NotAllowed, NotFound
from prepskul.domain.lifecycle import DECIDABLE, RecordingState
from prepskul.domain.matching import Candidate, RecordingFacts, match_recording
from prepskul.domain.people import Role
from prepskul.runtime import Runtime
from prepskul.services import feed, flags, notifications, outcomes
from prepskul.services.access import session_for

HOMEWORK_DUE = timedelta(days=7)
# Notes are kept for a session that was (or should have been) held, whatever its outcome.
NOTES_ACCEPTED = tuple(DECIDABLE)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


async def complete_content(rt: Runtime, meeting: dict[str, Any]) -> dict[str, Any]:
    """A webhook configured with only some `include_*` still yields the full notes."""
    rid = int(meeting["recording_id"])
    if meeting.get("default_summary") is None:
        meeting["default_summary"] = await rt.fathom.summary(rid)
    if meeting.get("transcript") is None:
        meeting["transcript"] = await rt.fathom.transcript(rid)
    if meeting.get("action_items") is None:
        created = _when(meeting.get("created_at"))
        meeting["action_items"] = await rt.fathom.action_items(rid, created)
    return meeting


async def _emails(db: AsyncSession, session: TutoringSession) -> tuple[str | None, str | None]:
    tutor = await db.get(Profile, session.tutor_id)
    student = await db.get(Profile, session.student_id)
    return ((tutor.email or "").lower() or None if tutor else None,
            (student.email or "").lower() or None if student else None)


async def _candidates(db: AsyncSession, facts: RecordingFacts) -> list[Candidate]:
    conditions = []
    if facts.meeting_url:
        conditions.append(TutoringSession.meet_link == facts.meeting_url)
    if facts.scheduled_start:
        window = timedelta(hours=3)
        conditions.append(TutoringSession.starts_at.between(
            facts.scheduled_start - window, facts.scheduled_start + window))
    if not conditions:
        return []
    rows = (await db.scalars(select(TutoringSession).where(
        or_(*conditions), TutoringSession.status.in_(NOTES_ACCEPTED)))).all()
    found = []
    for s in rows:
        emails = frozenset(e for e in await _emails(db, s) if e)
        found.append(Candidate(str(s.id), s.meet_link, s.starts_at, emails))
    return found


async def ingest(db: AsyncSession, rt: Runtime, meeting: dict[str, Any]) -> str:
    invitees = meeting.get("calendar_invitees") or []
    facts = RecordingFacts(
        meeting_url=meeting.get("meeting_url"),
        scheduled_start=_when(meeting.get("scheduled_start_time")),
        invitee_emails=frozenset(str(i["email"]).lower() for i in invitees
                                 if isinstance(i, dict) and i.get("email")),
    )
    match = match_recording(facts, await _candidates(db, facts))
    summary = meeting.get("default_summary")
    created = await db.execute(insert(Recording).values(
        fathom_recording_id=int(meeting["recording_id"]), session_id=None, match=match.how,
        candidates=list(match.candidates), title=meeting.get("title"),
        meeting_url=meeting.get("meeting_url"), share_url=meeting.get("share_url"),
        url=meeting.get("url"), scheduled_start=facts.scheduled_start,
        recording_start=_when(meeting.get("recording_start_time")),
        recording_end=_when(meeting.get("recording_end_time")),
        summary_markdown=summary.get("markdown_formatted") if isinstance(summary, dict) else None,
        transcript=meeting.get("transcript") or [], invitees=invitees,
    ).on_conflict_do_nothing(index_elements=["fathom_recording_id"]).returning(Recording.id))
    recording_id = created.scalar_one_or_none()
    if recording_id is None:
        return "recording already stored"
    for item in meeting.get("action_items") or []:
        if isinstance(item, dict) and item.get("description"):
            assignee = item.get("assignee") or {}
            db.add(ActionItem(
                recording_id=recording_id, description=str(item["description"]),
                assignee_name=assignee.get("name"),
                assignee_email=(assignee.get("email") or "").lower() or None,
                timestamp=item.get("recording_timestamp"),
                playback_url=item.get("recording_playback_url"),
            ))
    if match.session_id is None:
        await db.flush()
        return f"kept for an operator: {match.how}"
    recording = await db.get(Recording, recording_id)
    session = await db.get(TutoringSession, uuid.UUID(match.session_id), with_for_update=True)
    assert recording is not None and session is not None
    await attach(db, rt, recording, session, how=match.how)
    return f"matched by {match.how}"


async def attach(
    db: AsyncSession, rt: Runtime, recording: Recording, session: TutoringSession, *, how: str
) -> None:
    """Give a recording to its session: attendance, homework, transcript flags, the
    lesson's outcome reconsidered, notifications."""
    await db.flush()
    tutor_email, student_email = await _emails(db, session)
    recording.session_id, recording.match = session.id, how
    recording.attendance = attendance(
        recording.transcript, tutor_email=tutor_email, student_email=student_email,
        recording_start=recording.recording_start, recording_end=recording.recording_end)
    await db.execute(update(ActionItem).where(ActionItem.recording_id == recording.id)
                     .values(session_id=session.id, homework=False, due_at=None))
    if student_email:
        await db.execute(
            update(ActionItem)
            .where(ActionItem.recording_id == recording.id,
                   ActionItem.assignee_email == student_email)
            .values(homework=True, due_at=rt.clock.now() + HOMEWORK_DUE))
    session.recording_state = RecordingState.READY
    await flags.scan_recording(db, recording, session)
    await outcomes.reconsider(db, rt, session)
    await feed.record_change(db, session, "recording.ready", recording_id=str(recording.id))
    await notifications.notify_people(db, rt, session, "notes_ready")


async def assign(
    db: AsyncSession, rt: Runtime, recording_id: uuid.UUID, session_id: uuid.UUID
) -> Recording:
    """An operator's decision for an unmatched or ambiguous recording."""
    recording = await db.get(Recording, recording_id, with_for_update=True)
    if recording is None:
        raise NotFound("recording_not_found", "There is no recording with that id.")
    if recording.session_id is not None:
        raise Conflict("already_assigned", "This recording already belongs to a session.")
    session = await db.get(TutoringSession, session_id, with_for_update=True)
    if session is None:
        raise NotFound("session_not_found", "There is no session with that id.")
    if session.status not in NOTES_ACCEPTED:
        raise Conflict("session_not_held",
                       f"A {session.status.replace('_', ' ')} session cannot take notes.")
    await attach(db, rt, recording, session, how="manual")
    return recording


async def recording_for(
    db: AsyncSession, viewer: Profile, session_id: uuid.UUID
) -> tuple[Recording, list[ActionItem]]:
    session = await session_for(db, viewer, session_id)
    recording = (await db.scalars(select(Recording).where(
        Recording.session_id == session.id).order_by(Recording.created_at.desc()))).first()
    if recording is None:
        raise NotFound("no_recording", "This session has no notes yet.")
    items = (await db.scalars(select(ActionItem).where(ActionItem.recording_id == recording.id)
                              .order_by(ActionItem.timestamp))).all()
    return recording, list(items)


async def set_done(
    db: AsyncSession, rt: Runtime, viewer: Profile, item_id: uuid.UUID, done: bool
) -> ActionItem:
    """The student ticks their homework off (the tutor and operators may too); the tutor
    sees it on the session's notes."""
    item = await db.get(ActionItem, item_id, with_for_update=True)
    if item is None or item.session_id is None:
        raise NotFound("action_item_not_found", "There is no action item with that id.")
    session = await session_for(db, viewer, item.session_id)
    allowed = {session.student_id, session.tutor_id, session.booked_by_id}
    if viewer.id not in allowed and viewer.role != Role.ADMIN:
        raise NotAllowed("not_yours", "Only the student, their parent or the tutor can do this.")
    item.done_at = rt.clock.now() if done else None
    await feed.record_change(db, session, "homework.updated", action_item_id=str(item.id),
                             done=done)
    return item


async def mark_missing(rt: Runtime) -> int:
    """Sessions that ended some hours ago with no notes: marked `missing` for operators.
    Locks wait rather than skip (the outcome sweep may hold one of these rows for a moment,
    and a skipped row would wait for the next run); both sweeps lock in (ends_at, id) order,
    so they never deadlock."""
    cutoff = rt.clock.now() - timedelta(hours=rt.settings.recording_missing_after_hours)
    async with rt.sessions.begin() as db:
        late = (await db.scalars(select(TutoringSession).where(
            TutoringSession.status.in_(NOTES_ACCEPTED),
            TutoringSession.recording_state == RecordingState.AWAITING,
            TutoringSession.ends_at <= cutoff,
        ).order_by(TutoringSession.ends_at, TutoringSession.id).with_for_update())).all()
        for session in late:
            session.recording_state = RecordingState.MISSING
            await feed.record_change(db, session, "recording.missing")
        return len(late)
