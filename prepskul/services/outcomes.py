"""After the lesson: joins, the tutor's report and the outcome they decide (its confirmation
and settlement: `services.confirmations`).

Evidence arrives in any order — join clicks during the lesson, the tutor's report, Fathom's
notes minutes or hours later — and each arrival after the start asks `domain.outcome.decide`
again (`reconsider`); a sweep decides the rest once the grace after the end has passed, so
no session stays `scheduled` for ever (no evidence at all ⇒ `unresolved`, an operator's
queue). Once people have spoken — a problem reported, an operator's decision, a
confirmation — later evidence is kept but changes nothing. Every caller holds the session's
row lock, so evidence, sweeps and confirmations for one session never interleave.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import (
    LessonOutcome,
    LessonReport,
    Profile,
    Recording,
    SessionJoin,
    TutoringSession,
)
from prepskul.domain import outcome as rules
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed
from prepskul.domain.lifecycle import AWAITING_LESSON, DECIDABLE, Status
from prepskul.domain.outcome import (
    Evidence,
    JoinWindow,
    Side,
    Spoken,
    Verdict,
)
from prepskul.runtime import Runtime
from prepskul.services import feed, notifications
from prepskul.services.access import learner_side, session_for
from prepskul.services.booking import apply


def join_window(rt: Runtime) -> JoinWindow:
    s = rt.settings
    return JoinWindow(opens_before=timedelta(minutes=s.join_opens_minutes),
                      grace=timedelta(minutes=s.join_grace_minutes))


async def side_of(db: AsyncSession, actor: Profile, session: TutoringSession) -> Side | None:
    if actor.id == session.tutor_id:
        return Side.TUTOR
    return Side.LEARNER if actor.id in await learner_side(db, session) else None


async def join(db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID) -> str:
    """Record who joined and when; the Meet link to send them to."""
    session = await session_for(db, actor, session_id)
    side = await side_of(db, actor, session)
    if side is None:
        raise NotAllowed("not_a_participant", "Only the tutor and the learner's side join.")
    if session.status not in AWAITING_LESSON or not session.meet_link:
        raise Conflict("no_meeting", "This session has no lesson to join.")
    now = rt.clock.now()
    join_window(rt).check(now, session.starts_at, session.ends_at)
    db.add(SessionJoin(session_id=session.id, person_id=actor.id, side=side,
                       joined_at=now))
    await feed.record_change(db, session, "session.joined", side=side.value)
    return session.meet_link


@dataclass(frozen=True)
class ReportIn:
    topic: str
    learner_present: bool
    notes: str | None = None


async def report(db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
                 body: ReportIn) -> LessonOutcome | None:
    """The tutor's short report, once, from the start until the window after the end."""
    session = await session_for(db, actor, session_id, lock=True)
    if actor.id != session.tutor_id:
        raise NotAllowed("tutor_only", "Only the session's tutor reports on the lesson.")
    if Status(session.status) not in DECIDABLE:
        raise Conflict("no_lesson", f"A {session.status.replace('_', ' ')} session had no "
                                    "lesson to report on.")
    rules.report_window_open(rt.clock.now(), session.starts_at, session.ends_at,
                             timedelta(hours=rt.settings.report_window_hours))
    if not body.topic.strip():
        raise InvalidInput("topic_required", "Say what the lesson covered.")
    stored = await db.execute(insert(LessonReport).values(
        session_id=session.id, tutor_id=actor.id, topic=body.topic.strip(),
        learner_present=body.learner_present, notes=(body.notes or "").strip() or None,
        submitted_at=rt.clock.now(),
    ).on_conflict_do_nothing(index_elements=["session_id"]).returning(LessonReport.session_id))
    if stored.scalar_one_or_none() is None:
        raise Conflict("already_reported", "This lesson already has its report.")
    await feed.record_change(db, session, "lesson.reported")
    return await reconsider(db, rt, session)


async def evidence(db: AsyncSession, rt: Runtime, session: TutoringSession) -> Evidence:
    firsts: dict[Side, datetime] = {side: first for side, first in (await db.execute(
        select(SessionJoin.side, func.min(SessionJoin.joined_at))
        .where(SessionJoin.session_id == session.id).group_by(SessionJoin.side))).all()}
    window = join_window(rt)
    recording = (await db.scalars(select(Recording).where(Recording.session_id == session.id)
                                  .order_by(Recording.created_at.desc()).limit(1))).first()
    spoken = None
    if recording is not None:
        heard = recording.attendance or {}
        spoken = Spoken(tutor=heard.get("tutor") == "present",
                        learner=heard.get("student") == "present")
    filed = await db.get(LessonReport, session.id)
    return Evidence(
        tutor_join=window.mark(firsts.get(Side.TUTOR), session.starts_at),
        learner_join=window.mark(firsts.get(Side.LEARNER), session.starts_at),
        spoken=spoken, reported_learner_present=filed.learner_present if filed else None)


async def reconsider(db: AsyncSession, rt: Runtime, session: TutoringSession
                     ) -> LessonOutcome | None:
    """Decide (again) from all the evidence, unless people have spoken already. The caller
    holds the session's row lock."""
    if Status(session.status) not in DECIDABLE:
        return None
    row = await db.get(LessonOutcome, session.id, with_for_update=True)
    if row is not None and (row.settled_at or row.decided_by_id or row.problem):
        return row
    verdict = rules.decide(await evidence(db, rt, session))
    now = rt.clock.now()
    if row is None:
        row = LessonOutcome(session_id=session.id)
        db.add(row)
    changed = row.outcome != verdict.outcome
    _write(row, verdict)
    if changed:
        row.decided_at = now
        row.confirm_by = rules.confirm_deadline(now, _confirm_window(rt))
    apply(session, verdict.event)
    if changed:
        await _announce(db, rt, session, row, "lesson.outcome", f"outcome_{verdict.outcome}")
    return row


def _write(row: LessonOutcome, verdict: Verdict) -> None:
    row.outcome = verdict.outcome
    row.tutor_mark, row.learner_mark = verdict.tutor, verdict.learner
    row.why = verdict.why


def _confirm_window(rt: Runtime) -> timedelta:
    return timedelta(hours=rt.settings.confirm_window_hours)


async def _announce(db: AsyncSession, rt: Runtime, session: TutoringSession,
                    row: LessonOutcome, change: str, kind: str) -> None:
    await feed.record_change(db, session, change, outcome=row.outcome,
                             confirm_by=row.confirm_by.isoformat())
    await notifications.notify_people(db, rt, session, kind,
                                      occasion=row.decided_at.isoformat())


async def decide_due(rt: Runtime, *, limit: int = 200) -> int:
    """The sweep: paid or scheduled sessions whose end + grace has passed get an outcome
    from whatever evidence there is (none ⇒ `unresolved`, for an operator). Locks wait in
    (ends_at, id) order, like `recordings.mark_missing`, which sweeps the same rows."""
    cutoff = rt.clock.now() - timedelta(minutes=rt.settings.join_grace_minutes)
    async with rt.sessions.begin() as db:
        due = (await db.scalars(select(TutoringSession).where(
            TutoringSession.status.in_(AWAITING_LESSON), TutoringSession.ends_at <= cutoff,
        ).order_by(TutoringSession.ends_at, TutoringSession.id).limit(limit)
            .with_for_update())).all()
        for session in due:
            await reconsider(db, rt, session)
        return len(due)


async def outcome_for(db: AsyncSession, viewer: Profile, session_id: uuid.UUID
                      ) -> tuple[TutoringSession, LessonOutcome | None, LessonReport | None]:
    session = await session_for(db, viewer, session_id)
    return (session, await db.get(LessonOutcome, session.id),
            await db.get(LessonReport, session.id))
