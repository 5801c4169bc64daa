"""Housekeeping jobs: what the database keeps is bounded."""

from __future__ import annotations

from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.services import live, operations


async def purge_change_log(ctx: JobContext, payload: dict[str, Any]) -> str:
    """The change log keeps a week (enough for any reconnect's `Last-Event-ID`), not forever."""
    return f"{await live.purge(ctx.rt)} change events purged"


async def purge_finished_jobs(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Finished jobs are kept JOB_RETENTION_DAYS for operators, then go; dead ones stay."""
    return f"{await operations.purge_finished_jobs(ctx.rt)} finished jobs purged"
