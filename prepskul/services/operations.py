"""What operators see and do: the inbox, the queue, and whatever needs a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import (
    InboxState,
    Job,
    LedgerAccount,
    LessonOutcome,
    Payment,
    Payout,
    Recording,
    TranscriptFlag,
    TutoringSession,
    WebhookEvent,
)
from prepskul.domain.errors import Conflict, NotFound
from prepskul.domain.flags import FlagStatus
from prepskul.domain.ledger import AccountKind
from prepskul.domain.lifecycle import AWAITING_LESSON, MeetState, RecordingState
from prepskul.domain.payouts import OPEN as PAYOUTS_OPEN
from prepskul.domain.payouts import PayoutStatus
from prepskul.queue import store
from prepskul.queue.kinds import WEBHOOK_JOBS, JobStatus
from prepskul.runtime import Runtime
from prepskul.services.confirmations import AWAITING_OPERATOR

PURGE_BATCH = 5000


async def webhook_events(
    db: AsyncSession, *, provider: str | None, state: InboxState | None, limit: int
) -> list[WebhookEvent]:
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if provider:
        query = query.where(WebhookEvent.provider == provider)
    if state:
        query = query.where(WebhookEvent.state == state)
    return list((await db.scalars(query)).all())


async def replay_webhook(db: AsyncSession, rt: Runtime, event_id: int) -> WebhookEvent:
    """Process a stored delivery again (processing is idempotent, so this is always safe)."""
    event = await db.get(WebhookEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound("webhook_not_found", "There is no webhook delivery with that id.")
    if not event.verified:
        raise Conflict("rejected_webhook",
                       "This delivery failed verification; it is evidence, not work to redo.")
    event.state = InboxState.RECEIVED
    await store.enqueue(db, WEBHOOK_JOBS[event.provider], {"event_id": event.id},
                        now=rt.clock.now(),
                        dedupe_key=f"webhook:{event.id}:replay:{event.attempts}")
    return event


async def jobs(db: AsyncSession, *, status: JobStatus | None, limit: int) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        query = query.where(Job.status == status)
    return list((await db.scalars(query)).all())


async def replay_job(db: AsyncSession, rt: Runtime, job_id: int) -> None:
    if not await store.replay(db, job_id, now=rt.clock.now()):
        raise Conflict("not_dead", "Only a dead job can be replayed.")


async def purge_job(db: AsyncSession, job_id: int) -> None:
    """Drop a dead job for good (its cause was dealt with another way)."""
    if not await store.purge_dead(db, job_id):
        raise Conflict("not_dead", "Only a dead job can be purged.")


async def purge_finished_jobs(rt: Runtime) -> int:
    """Jobs done more than JOB_RETENTION_DAYS ago; in batches, each its own transaction, so a
    large backlog never holds one long lock. How many were deleted."""
    before = rt.clock.now() - timedelta(days=rt.settings.job_retention_days)
    total = 0
    while True:
        async with rt.sessions.begin() as db:
            deleted = await store.purge_finished(db, before=before, batch=PURGE_BATCH)
        total += deleted
        if deleted < PURGE_BATCH:
            return total


async def flagged_payments(db: AsyncSession) -> list[Payment]:
    return list((await db.scalars(select(Payment).where(Payment.flag.is_not(None))
                                  .order_by(Payment.updated_at.desc()))).all())


async def unassigned_recordings(db: AsyncSession) -> list[Recording]:
    return list((await db.scalars(select(Recording).where(Recording.session_id.is_(None))
                                  .order_by(Recording.created_at.desc()))).all())


# What needs a person, one rule for the console and for /metrics (they once disagreed): a
# paid lesson still ahead whose Meet link could not be made, and a lesson whose notes never
# came.
MEET_LINK_FAILED = and_(TutoringSession.meet_state == MeetState.FAILED,
                        TutoringSession.status.in_(AWAITING_LESSON))
NOTES_MISSING = TutoringSession.recording_state == RecordingState.MISSING


async def sessions_needing_attention(db: AsyncSession) -> list[TutoringSession]:
    return list((await db.scalars(select(TutoringSession).where(
        or_(MEET_LINK_FAILED, NOTES_MISSING)).order_by(TutoringSession.starts_at))).all())


@dataclass(frozen=True)
class Gauges:
    """What /metrics shows of the database, read together."""

    jobs: dict[str, int]
    oldest_queued: float  # seconds the oldest due job has waited
    inbox: dict[tuple[str, str], int]  # (provider, state) -> deliveries
    attention: dict[str, int]


async def gauges(db: AsyncSession) -> Gauges:
    jobs: dict[str, int] = dict.fromkeys(JobStatus, 0)
    for status, n in await db.execute(select(Job.status, func.count()).group_by(Job.status)):
        jobs[status] = n
    oldest = await db.scalar(
        select(func.coalesce(func.extract("epoch", func.now() - func.min(Job.run_at)), 0))
        .where(Job.status == JobStatus.QUEUED, Job.run_at <= func.now()))
    inbox = {(provider, state.value): n for provider, state, n in await db.execute(
        select(WebhookEvent.provider, WebhookEvent.state, func.count())
        .group_by(WebhookEvent.provider, WebhookEvent.state))}
    counts = {
        "meet_link_failed": select(TutoringSession).where(MEET_LINK_FAILED),
        "recording_missing": select(TutoringSession).where(NOTES_MISSING),
        "payments_flagged": select(Payment).where(Payment.flag.is_not(None)),
        "recordings_unmatched": select(Recording).where(Recording.session_id.is_(None)),
        # Money out: payouts waiting for an operator or for Fapshi, those that failed in the
        # last day (their amount went back: tell the tutor or fix the number), refunds owed.
        "payouts_pending": select(Payout).where(Payout.status.in_(PAYOUTS_OPEN)),
        "payouts_failed": select(Payout).where(
            Payout.status == PayoutStatus.FAILED,
            Payout.finished_at > func.now() - text("interval '1 day'")),
        "refunds_owed": select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.REFUND_OWED, LedgerAccount.balance_xaf > 0),
        # After the lesson: outcomes an operator must decide, transcript flags to review.
        "outcomes_awaiting_operator": select(LessonOutcome).where(AWAITING_OPERATOR),
        "transcript_flags_open": select(TranscriptFlag).where(
            TranscriptFlag.status == FlagStatus.OPEN),
    }
    attention = {what: await db.scalar(select(func.count()).select_from(query.subquery())) or 0
                 for what, query in counts.items()}
    return Gauges({str(k): v for k, v in jobs.items()}, float(oldest or 0), inbox, attention)
