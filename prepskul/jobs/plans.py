"""Plan jobs: the recurring billing pass (`services.plan_billing.tick`)."""

from __future__ import annotations

from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.services import plan_billing as billing


async def plan_billing(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Issue invoices ahead of their periods, remind payers, mark invoices overdue, pause
    plans unpaid past their grace, end plans past their last day, extend reservations."""
    return await billing.tick(ctx.rt)
