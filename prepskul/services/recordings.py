"""Fathom notes: fill in what the webhook left out, match the recording to its session,
store summary, transcript and action items, complete the session and tell the people.
The same `recording_id` twice acts once (unique column)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ActionItem, Profile, Recording, TutoringSession
from prepskul.domain.lifecycle import Event, RecordingState, Status
from prepskul.domain.matching import Candidate, RecordingFacts, match_recording
from prepskul.runtime import Runtime
from prepskul.services import feed
from prepskul.services.sessions import apply

HOMEWORK_DUE = timedelta(days=7)


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
    return meeting


async def _candidates(db: AsyncSession, facts: RecordingFacts) -> list[Candidate]:
    conditions = []
    if facts.meeting_url:
        conditions.append(TutoringSession.meet_link == facts.meeting_url)
    if facts.scheduled_start:
        conditions.append(TutoringSession.starts_at.between(
            facts.scheduled_start - timedelta(hours=3), facts.scheduled_start + timedelta(hours=3)))
    if not conditions:
        return []
    rows = (await db.scalars(select(TutoringSession).where(
        or_(*conditions), TutoringSession.status.in_(
            [Status.PAID.value, Status.SCHEDULED.value, Status.COMPLETED.value])
    ))).all()
    found = []
    for s in rows:
        emails = {p.email.lower() for pid in (s.tutor_id, s.student_id)
                  if (p := await db.get(Profile, pid)) and p.email}
        found.append(Candidate(str(s.id), s.meet_link, s.starts_at, frozenset(emails)))
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
    summary = meeting.get("default_summary") or {}
    created = await db.execute(insert(Recording).values(
        fathom_recording_id=int(meeting["recording_id"]),
        session_id=uuid.UUID(match.session_id) if match.session_id else None,
        match=match.how, candidates=list(match.candidates), title=meeting.get("title"),
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
    session = None
    if match.session_id:
        session = await db.get(TutoringSession, uuid.UUID(match.session_id), with_for_update=True)
    await _store_action_items(db, rt, recording_id, session, meeting.get("action_items") or [])
    if session is None:
        return f"kept for an operator: {match.how}"
    session.recording_state = RecordingState.READY.value
    if session.status != Status.COMPLETED.value:
        apply(session, Event.NOTES_RECEIVED)
    await feed.record_change(db, session, "recording.ready", recording_id=str(recording_id))
    await feed.notify_people(db, rt, session, "notes_ready")
    return f"matched by {match.how}"


async def _store_action_items(
    db: AsyncSession, rt: Runtime, recording_id: uuid.UUID,
    session: TutoringSession | None, items: list[Any],
) -> None:
    student_email = None
    if session is not None:
        student = await db.get(Profile, session.student_id)
        student_email = (student.email or "").lower() if student else None
    for item in items:
        if not isinstance(item, dict) or not item.get("description"):
            continue
        assignee = item.get("assignee") or {}
        email = (assignee.get("email") or "").lower() or None
        homework = bool(student_email and email == student_email)
        db.add(ActionItem(
            recording_id=recording_id, session_id=session.id if session else None,
            description=str(item["description"]), assignee_name=assignee.get("name"),
            assignee_email=email, timestamp=item.get("recording_timestamp"),
            playback_url=item.get("recording_playback_url"), homework=homework,
            due_at=rt.clock.now() + HOMEWORK_DUE if homework else None,
        ))
