"""Fathom notes: fill in what the webhook left out, match the recording to its session,
store summary, transcript and action items, complete the session and tell the people.
The same `recording_id` twice acts once (unique column). Unmatched or ambiguous recordings
are kept for an operator, who attaches them with the same code path."""

from __future__ import annotations

import uuid
from datetime import timedelta
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
from prepskul.providers.fathom.models import Meeting
from prepskul.runtime import Runtime
from prepskul.services import feed, flags, notifications, outcomes
from prepskul.services.access import session_for

HOMEWORK_DUE = timedelta(days=7)
# Notes are kept for a session that was (or should have been) held, whatever its outcome.
NOTES_ACCEPTED = tuple(DECIDABLE)


async def complete_content(rt: Runtime, meeting: Meeting) -> Meeting:
    """A webhook configured with only some `include_*` still yields the full notes."""
    rid, missing = meeting.recording_id, dict[str, Any]()
    if meeting.summary_markdown is None:
        missing["summary_markdown"] = await rt.fathom.summary(rid)
    if meeting.transcript is None:
        missing["transcript"] = await rt.fathom.transcript(rid)
    if meeting.action_items is None:
        missing["action_items"] = await rt.fathom.action_items(rid, meeting.created_at)
    return meeting.model_copy(update=missing)


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


async def ingest(db: AsyncSession, rt: Runtime, meeting: Meeting) -> str:
    facts = RecordingFacts(
        meeting_url=meeting.meeting_url, scheduled_start=meeting.scheduled_start,
        invitee_emails=frozenset(i.email for i in meeting.invitees if i.email),
    )
    match = match_recording(facts, await _candidates(db, facts))
    created = await db.execute(insert(Recording).values(
        fathom_recording_id=meeting.recording_id, session_id=None, match=match.how,
        candidates=list(match.candidates), title=meeting.title,
        meeting_url=meeting.meeting_url, share_url=meeting.share_url, url=meeting.url,
        scheduled_start=meeting.scheduled_start, recording_start=meeting.recording_start,
        recording_end=meeting.recording_end, summary_markdown=meeting.summary_markdown,
        transcript=[line.model_dump() for line in meeting.transcript or []],
        invitees=[i.model_dump() for i in meeting.invitees],
    ).on_conflict_do_nothing(index_elements=["fathom_recording_id"]).returning(Recording.id))
    recording_id = created.scalar_one_or_none()
    if recording_id is None:
        return "recording already stored"
    for item in meeting.action_items or []:
        if item.description:
            db.add(ActionItem(
                recording_id=recording_id, description=item.description,
                assignee_name=item.assignee_name, assignee_email=item.assignee_email,
                timestamp=item.timestamp, playback_url=item.playback_url,
            ))
    if match.session_id is None:
        await db.flush()
        return f"kept for an operator: {match.how}"
    recording = await db.get(Recording, recording_id)
    session = await db.get(TutoringSession, uuid.UUID(match.session_id), with_for_update=True)
    assert recording is not None and session is not None
    await attach(db, rt, recording, session, how=match.how)
    return f"matched by {match.how}"


def speaker_emails(transcript: list[dict[str, Any]]) -> set[str]:
    """The calendar emails Fathom matched to someone who spoke (a stored transcript)."""
    return {str(line["speaker_email"]) for line in transcript if line.get("speaker_email")}


async def attach(
    db: AsyncSession, rt: Runtime, recording: Recording, session: TutoringSession, *, how: str
) -> None:
    """Give a recording to its session: attendance, homework, transcript flags, the
    lesson's outcome reconsidered, notifications."""
    await db.flush()
    tutor_email, student_email = await _emails(db, session)
    recording.session_id, recording.match = session.id, how
    recording.attendance = attendance(
        speaker_emails(recording.transcript), tutor_email=tutor_email, student_email=student_email,
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
