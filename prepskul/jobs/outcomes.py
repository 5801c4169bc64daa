"""The after-the-lesson sweeps: decide outcomes once the grace after the end has passed,
and let silence confirm once the confirmation window has."""

from __future__ import annotations

from typing import Any

from prepskul.jobs.worker import JobContext
from prepskul.services import confirmations, outcomes


async def decide_outcomes(ctx: JobContext, payload: dict[str, Any]) -> str:
    return f"{await outcomes.decide_due(ctx.rt)} lesson outcomes decided"


async def settle_silent_outcomes(ctx: JobContext, payload: dict[str, Any]) -> str:
    return f"{await confirmations.settle_silent(ctx.rt)} lessons confirmed by silence"
