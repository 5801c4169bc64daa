"""Money jobs: release earnings whose hold has passed; send, confirm and reconcile
payouts."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from prepskul.domain.payouts import PayoutStatus
from prepskul.jobs.worker import JobContext
from prepskul.providers.errors import ProviderError
from prepskul.services import money, payouts

log = logging.getLogger(__name__)


async def release_earnings(ctx: JobContext, payload: dict[str, Any]) -> str:
    return f"{await money.release_due_earnings(ctx.rt)} earnings released"


async def send_payout(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Retried by the queue on a provider's timeout or 5xx: each attempt looks the payout up
    at Fapshi before creating it, so a lost answer never pays twice."""
    return await payouts.send(ctx.rt, uuid.UUID(payload["payout_id"]))


async def reconcile_payouts(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Payouts whose webhook never came (or whose send job died) are asked about again."""
    due = await payouts.due_for_check(ctx.rt)
    unanswered = 0
    for payout_id, status in due:
        try:
            if status is PayoutStatus.SENDING:
                await payouts.send(ctx.rt, payout_id)
            else:
                await payouts.check(ctx.rt, payout_id)
        except ProviderError as exc:  # one unanswered check must not stop the others
            unanswered += 1
            log.warning("reconcile payout %s: %s (asked again later)", payout_id, exc)
    return f"{len(due)} payouts asked about, {unanswered} unanswered"
