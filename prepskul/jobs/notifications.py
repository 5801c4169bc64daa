"""Notification jobs: each outside channel on its own (the in-app row needs none)."""

from __future__ import annotations

import uuid
from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.services import notifications


async def send_email(ctx: JobContext, payload: dict[str, Any]) -> str:
    return await notifications.send_email(ctx.rt, uuid.UUID(payload["notification_id"]))


async def send_push(ctx: JobContext, payload: dict[str, Any]) -> str:
    return await notifications.send_push(ctx.rt, uuid.UUID(payload["notification_id"]))


async def send_reminders(ctx: JobContext, payload: dict[str, Any]) -> str:
    return f"{await notifications.due_reminders(ctx.rt)} sessions reminded"

