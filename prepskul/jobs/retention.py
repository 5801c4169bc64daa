"""Housekeeping jobs: what the database keeps is bounded."""

from __future__ import annotations

from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.services import live


async def purge_change_log(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The change log keeps a week (enough for any reconnect's `Last-Event-ID`), not forever."""
    await live.purge(ctx.rt)
