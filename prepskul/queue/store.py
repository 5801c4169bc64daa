"""A small Postgres job queue: enqueue inside the caller's transaction, claim with
FOR UPDATE SKIP LOCKED under a lease, retry with exponential backoff and jitter, dead-letter
for an operator to replay.

Why our own: procrastinate's SQLAlchemy integration is sync psycopg2 only, and its async
connectors own their connections, so a job could not commit atomically with our state
change; pgqueuer can share an asyncpg connection but keeps its tables outside our schema and
migrations, and turns failures into log rows rather than a dead-letter state that can be
replayed. What we need is ~150 lines of SQL over one table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Job
from prepskul.queue.kinds import JobKind, JobStatus

BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


async def enqueue(
    db: AsyncSession,
    kind: JobKind,
    payload: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
    delay: timedelta = timedelta(0),
    max_attempts: int = MAX_ATTEMPTS,
) -> bool:
    """Add a job in the caller's transaction. False when `dedupe_key` was already used:
    the same cause never enqueues the same effect twice."""
    stmt = (
        insert(Job)
        .values(
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
            run_at=now + delay,
            max_attempts=max_attempts,
            status=JobStatus.QUEUED.value,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Job.id)
    )
    return (await db.execute(stmt)).scalar_one_or_none() is not None


_CLAIM = text(
    """
    UPDATE prepskul.jobs
       SET status = 'running', attempts = attempts + 1, locked_by = :worker,
           locked_until = :now + make_interval(secs => :lease), updated_at = now()
     WHERE id IN (
           SELECT id FROM prepskul.jobs
            WHERE (status = 'queued' AND run_at <= :now)
               OR (status = 'running' AND locked_until < :now)
            ORDER BY run_at
            LIMIT :limit
              FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, payload, attempts, max_attempts
    """
)


async def claim(
    db: AsyncSession, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs, including ones whose worker died (lease expired)."""
    rows = await db.execute(
        _CLAIM,
        {"worker": worker, "now": now, "lease": lease.total_seconds(), "limit": limit},
    )
    return [ClaimedJob(*row) for row in rows.all()]


_MINE = "id = :id AND locked_by = :worker AND status = 'running'"


async def complete(db: AsyncSession, job: ClaimedJob, *, worker: str, now: datetime,
                   outcome: str | None = None) -> None:
    """Done, with what the handler said it did (shown to operators beside the job)."""
    await db.execute(
        text(
            "UPDATE prepskul.jobs SET status = 'done', finished_at = :now, locked_until = NULL,"
            f" last_error = NULL, outcome = :outcome, updated_at = now() WHERE {_MINE}"
        ),
        {"id": job.id, "worker": worker, "now": now,
         "outcome": outcome[:4000] if outcome else None},
    )


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential, capped, with equal jitter: half fixed, half random, so retries of many
    jobs that failed together spread out instead of stampeding the provider again."""
    exp = min(BACKOFF_CAP.total_seconds(), BACKOFF_BASE.total_seconds() * 2 ** (attempt - 1))
    return timedelta(seconds=exp / 2 + (rng or random).uniform(0, exp / 2))


async def fail(
    db: AsyncSession,
    job: ClaimedJob,
    *,
    worker: str,
    now: datetime,
    error: str,
    retry_after: float | None = None,
    permanent: bool = False,
) -> JobStatus:
    """Reschedule with backoff, or dead-letter when attempts are spent or retrying is
    pointless. Returns the job's new status."""
    dead = permanent or job.attempts >= job.max_attempts
    delay = timedelta(seconds=retry_after) if retry_after is not None else backoff(job.attempts)
    status = JobStatus.DEAD if dead else JobStatus.QUEUED
    await db.execute(
        text(
            "UPDATE prepskul.jobs SET status = :status, run_at = :run_at, last_error = :error,"
            " locked_until = NULL, finished_at = CASE WHEN :dead THEN CAST(:now AS timestamptz)"
            f" END, updated_at = now() WHERE {_MINE}"
        ),
        {
            "status": status.value,
            "run_at": now + delay,
            "error": error[:4000],
            "dead": dead,
            "now": now,
            "id": job.id,
            "worker": worker,
        },
    )
    return status


async def replay(db: AsyncSession, job_id: int, *, now: datetime) -> bool:
    """Give a dead job a fresh set of attempts (the operator fixed the cause)."""
    result = await db.execute(
        text(
            "UPDATE prepskul.jobs SET status = 'queued', attempts = 0, run_at = :now,"
            " finished_at = NULL, updated_at = now() WHERE id = :id AND status = 'dead'"
            " RETURNING id"
        ),
        {"id": job_id, "now": now},
    )
    return result.scalar_one_or_none() is not None


async def purge_dead(db: AsyncSession, job_id: int) -> bool:
    """An operator drops a dead job they will not replay. Only dead ones: anything else is
    still work, or already kept only for its retention."""
    result = await db.execute(
        text("DELETE FROM prepskul.jobs WHERE id = :id AND status = 'dead' RETURNING id"),
        {"id": job_id},
    )
    return result.scalar_one_or_none() is not None


async def purge_finished(db: AsyncSession, *, before: datetime, batch: int = 5000) -> int:
    """Delete up to `batch` jobs done before `before`; how many. Dead jobs stay until an
    operator replays or purges them. A dedupe key is forgotten with its job: past the
    retention, a repeated cause is refused by the state it already changed instead."""
    result = await db.execute(
        text(
            "DELETE FROM prepskul.jobs WHERE id IN (SELECT id FROM prepskul.jobs"
            " WHERE status = 'done' AND finished_at < :before LIMIT :batch)"
        ),
        {"before": before, "batch": batch},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
