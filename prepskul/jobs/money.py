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


async def release_earnings(ctx: JobContext, payload: dict[str, Any]) -> None:
    await money.release_due_earnings(ctx.rt)


async def send_payout(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Retried by the queue on a provider's timeout or 5xx: each attempt looks the payout up
    at Fapshi before creating it, so a lost answer never pays twice."""
    await payouts.send(ctx.rt, uuid.UUID(payload["payout_id"]))


async def reconcile_payouts(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Payouts whose webhook never came (or whose send job died) are asked about again."""
    for payout_id, status in await payouts.due_for_check(ctx.rt):
        try:
            if status is PayoutStatus.SENDING:
                await payouts.send(ctx.rt, payout_id)
            else:
                await payouts.check(ctx.rt, payout_id)
        except ProviderError as exc:  # one unanswered check must not stop the others
            log.warning("reconcile payout %s: %s (asked again later)", payout_id, exc)
