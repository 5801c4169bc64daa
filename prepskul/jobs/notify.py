"""Notification jobs: each outside channel on its own (the in-app row needs none), and
the live feed's retention."""

from __future__ import annotations

import uuid
from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.services import live, notifications


async def send_email(ctx: JobContext, payload: dict[str, Any]) -> None:
    await notifications.send_email(ctx.rt, uuid.UUID(payload["notification_id"]))


async def send_push(ctx: JobContext, payload: dict[str, Any]) -> None:
    await notifications.send_push(ctx.rt, uuid.UUID(payload["notification_id"]))


async def send_reminders(ctx: JobContext, payload: dict[str, Any]) -> None:
    await notifications.due_reminders(ctx.rt)


async def purge_change_log(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The change log keeps a week (enough for any reconnect's `Last-Event-ID`), not forever."""
    await live.purge(ctx.rt)
