from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at


class JobStatus(StrEnum):
    """Where a job stands (the queue's claim SQL reads the same values)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(Base):
    """The outbox and work queue: written in the same transaction as the change that needs it."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_ready", "run_at", postgresql_where=text("status = 'queued'")),
        Index("ix_jobs_leases", "locked_until", postgresql_where=text("status = 'running'")),
        # /metrics counts jobs by status on every scrape; the purge finds old finished ones.
        Index("ix_jobs_status_finished", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Same key, same job: a retried request or a resent webhook cannot enqueue twice.
    dedupe_key: Mapped[str | None] = mapped_column(Text, unique=True)
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, 16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)  # what the handler did, for operators
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
