"""After the lesson: joins, the tutor's report, the outcome, and its confirmation.

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

from sqlalchemy import and_, func, select, update
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
    Mark,
    Outcome,
    Settlement,
    Side,
    Spoken,
    Verdict,
)
from prepskul.domain.people import Role
from prepskul.runtime import Runtime
from prepskul.services import audit, feed, notifications, settlement
from prepskul.services.access import learner_side, session_for
from prepskul.services.booking import apply


def join_window(rt: Runtime) -> JoinWindow:
    s = rt.settings
    return JoinWindow(opens_before=timedelta(minutes=s.join_opens_minutes),
                      grace=timedelta(minutes=s.join_grace_minutes))


async def _side(db: AsyncSession, actor: Profile, session: TutoringSession) -> Side | None:
    if actor.id == session.tutor_id:
        return Side.TUTOR
    return Side.LEARNER if actor.id in await learner_side(db, session) else None


async def join(db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID) -> str:
    """Record who joined and when; the Meet link to send them to."""
    session = await session_for(db, actor, session_id)
    side = await _side(db, actor, session)
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


async def _outcome_of(db: AsyncSession, session: TutoringSession) -> LessonOutcome:
    row = await db.get(LessonOutcome, session.id, with_for_update=True)
    if row is None:
        raise Conflict("no_outcome", "This lesson has no outcome yet.")
    return row


async def _settle(db: AsyncSession, rt: Runtime, session: TutoringSession,
                  row: LessonOutcome, how: Settlement, by: uuid.UUID | None) -> bool:
    """Settle once: of two racing settlements the guarded UPDATE lets exactly one through,
    and only that one calls `settlement.lesson_settled`."""
    now = rt.clock.now()
    won = (await db.execute(
        update(LessonOutcome)
        .where(LessonOutcome.session_id == session.id, LessonOutcome.settled_at.is_(None))
        .values(settled_at=now, settled_how=how, settled_by_id=by)
        .returning(LessonOutcome.session_id))).scalar_one_or_none()
    if won is None:
        return False
    await db.refresh(row)
    await settlement.lesson_settled(db, rt, session, row.outcome, how=how, by=by)
    await notifications.notify_people(db, rt, session, "lesson_settled")
    return True


async def confirm(db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID
                  ) -> LessonOutcome:
    """The learner's side confirms the outcome. A second confirmation (a double tap, two
    parents at once) is answered with the settled outcome and changes nothing."""
    session = await session_for(db, actor, session_id, lock=True)
    if actor.id not in await learner_side(db, session):
        raise NotAllowed("learner_only", "Only the learner or their parent confirms a lesson.")
    row = await _outcome_of(db, session)
    if row.settled_at is not None:
        return row
    if row.outcome not in rules.FINAL:
        raise Conflict("awaiting_operator", "An operator is looking at this lesson.")
    await _settle(db, rt, session, row, Settlement.CONFIRMED, actor.id)
    return row


async def report_problem(db: AsyncSession, rt: Runtime, actor: Profile,
                         session_id: uuid.UUID, problem: str) -> LessonOutcome:
    """Either side contests the outcome within the window: it becomes `disputed` and waits
    for an operator; later evidence no longer moves it."""
    session = await session_for(db, actor, session_id, lock=True)
    if await _side(db, actor, session) is None:
        raise NotAllowed("not_a_participant", "Only the tutor and the learner's side can.")
    row = await _outcome_of(db, session)
    if row.settled_at is not None or rt.clock.now() > row.confirm_by:
        raise Conflict("confirm_window_closed", "This lesson's outcome is settled; "
                                                "write to the operators instead.")
    if not problem.strip():
        raise InvalidInput("problem_required", "Say what went wrong.")
    row.problem, row.problem_by_id, row.problem_at = problem.strip(), actor.id, rt.clock.now()
    row.outcome = Outcome.DISPUTED
    apply(session, rules.EVENT_FOR[Outcome.DISPUTED])
    await feed.record_change(db, session, "lesson.problem_reported", outcome=row.outcome)
    await notifications.notify_people(db, rt, session, "problem_reported")
    return row


async def settle_silent(rt: Runtime, *, limit: int = 200) -> int:
    """Silence confirms: outcomes nobody contested, once their window has passed."""
    now = rt.clock.now()
    async with rt.sessions.begin() as db:
        due = (await db.execute(select(TutoringSession, LessonOutcome).join(
            LessonOutcome, LessonOutcome.session_id == TutoringSession.id).where(
            LessonOutcome.settled_at.is_(None), LessonOutcome.confirm_by <= now,
            LessonOutcome.outcome.in_(rules.FINAL),
        ).order_by(LessonOutcome.confirm_by).limit(limit)
            .with_for_update(skip_locked=True))).all()
        for session, row in due:
            await _settle(db, rt, session, row, Settlement.SILENCE, None)
        return len(due)


async def decide_by_operator(db: AsyncSession, rt: Runtime, operator: Profile,
                             session_id: uuid.UUID, outcome: Outcome, reason: str
                             ) -> LessonOutcome:
    """An operator settles a disputed or unresolved lesson (or overrules any unsettled
    one): final at once, audited with the reason."""
    if operator.role != Role.ADMIN:
        raise NotAllowed("admin_only", "Only operators can do this.")
    if outcome not in rules.FINAL:
        raise InvalidInput("invalid_outcome", "Decide who was there: completed, "
                                              "tutor_no_show or student_no_show.")
    why = audit.reason_given(reason)
    session = await session_for(db, operator, session_id, lock=True)
    if Status(session.status) not in DECIDABLE or rt.clock.now() < session.starts_at:
        raise Conflict("no_lesson", "Only a lesson that took place, or should have, "
                                    "takes an outcome.")
    row = await db.get(LessonOutcome, session.id, with_for_update=True)
    if row is not None and row.settled_at is not None:
        raise Conflict("already_settled", "This lesson's outcome is already settled.")
    before = row.outcome if row else session.status
    if row is None:
        row = LessonOutcome(session_id=session.id, tutor_mark=Mark.ABSENT,
                            learner_mark=Mark.ABSENT)
        db.add(row)
    now = rt.clock.now()
    row.outcome, row.why = outcome, f"operator: {why}"
    row.decided_at, row.decided_by_id, row.confirm_by = now, operator.id, now
    apply(session, rules.EVENT_FOR[outcome])
    await db.flush()
    await audit.record(db, rt, operator, "decide_lesson_outcome", f"session:{session.id}", why,
                       before=str(before), after=outcome.value)
    await _settle(db, rt, session, row, Settlement.OPERATOR, operator.id)
    return row


# The operators' queue: lessons with no evidence, or contested, not settled yet.
AWAITING_OPERATOR = and_(LessonOutcome.settled_at.is_(None),
                         LessonOutcome.outcome.in_([Outcome.DISPUTED, Outcome.UNRESOLVED]))


async def awaiting_operator(db: AsyncSession) -> list[tuple[TutoringSession, LessonOutcome]]:
    """The operators' queue, oldest lesson first."""
    rows = await db.execute(select(TutoringSession, LessonOutcome).join(
        LessonOutcome, LessonOutcome.session_id == TutoringSession.id).where(
        AWAITING_OPERATOR).order_by(TutoringSession.ends_at))
    return [(session, row) for session, row in rows.all()]


async def outcome_for(db: AsyncSession, viewer: Profile, session_id: uuid.UUID
                      ) -> tuple[TutoringSession, LessonOutcome | None, LessonReport | None]:
    session = await session_for(db, viewer, session_id)
    return (session, await db.get(LessonOutcome, session.id),
            await db.get(LessonReport, session.id))
