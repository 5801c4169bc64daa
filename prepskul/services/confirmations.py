"""Settling a lesson's outcome once it is decided (`services.outcomes` decides it from the
evidence): the learner's side confirms, either side reports a problem within the window
(then an operator decides), silence confirms when the window passes, or an operator settles
it — each path through one guarded UPDATE, so a lesson settles exactly once
(`services.settlement`). Also the operators' queue of lessons awaiting their decision."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import (
    LessonOutcome,
    Profile,
    TutoringSession,
)
from prepskul.domain import outcome as rules
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed
from prepskul.domain.lifecycle import DECIDABLE, Status
from prepskul.domain.outcome import (
    Mark,
    Outcome,
    Settlement,
)
from prepskul.domain.people import Role
from prepskul.runtime import Runtime
from prepskul.services import audit, feed, notifications, outcomes, settlement
from prepskul.services.access import learner_side, session_for
from prepskul.services.booking import apply


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
    if await outcomes.side_of(db, actor, session) is None:
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
