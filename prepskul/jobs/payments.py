"""Payment jobs: process a Fapshi webhook, reconcile open transactions, expire links."""

from __future__ import annotations

import logging
from typing import Any

from prepskul.db.models import InboxState
from prepskul.jobs.worker import JobContext
from prepskul.providers.errors import PermanentProviderError, ProviderError
from prepskul.services import inbox, lapses, payments, payouts, proposals

log = logging.getLogger(__name__)


async def process_fapshi_webhook(ctx: JobContext, payload: dict[str, Any]) -> str:
    rt = ctx.rt
    event_id = int(payload["event_id"])
    async with rt.sessions() as db:  # one read for the delivery and whose transaction it is
        stored = await inbox.load(db, event_id)
        trans_id = str(stored.body["transId"])
        payout = await payouts.owner_of(db, trans_id)
    try:  # the truth, outside any transaction; a payout is asked of the payout service
        tx = await (payouts.ask_fapshi(rt, trans_id) if payout
                    else payments.ask_fapshi(rt, trans_id))
    except Exception as exc:
        async with rt.sessions.begin() as db:
            await inbox.mark(db, event_id, InboxState.FAILED, now=rt.clock.now(), error=str(exc))
        raise
    async with rt.sessions.begin() as db:  # the change and the delivery's outcome together
        if tx is None:
            outcome = payments.UNKNOWN
        elif payout or tx.is_payout:
            outcome = await payouts.apply_transaction(db, rt, tx)
        else:
            outcome = await payments.apply_transaction(db, rt, tx, learned_at=stored.received_at)
        await inbox.mark(db, event_id, InboxState.PROCESSED, now=rt.clock.now(), error=outcome)
    return outcome


async def reconcile_payments(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Fapshi sends each webhook once and never again: ask about every open transaction
    whose check is due, so a lost webhook only delays a confirmation."""
    due = await payments.due_for_check(ctx.rt)
    unanswered = 0
    for trans_id in due:
        try:
            await payments.check_with_fapshi(ctx.rt, trans_id)
        except ProviderError as exc:  # one unanswered check must not stop the others
            unanswered += 1
            log.warning("reconcile %s: %s (asked again at its next check)", trans_id, exc)
    return f"{len(due)} transactions checked, {unanswered} unanswered"


async def expire_payment(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Close a checkout link whose session was cancelled. If it was paid meanwhile, Fapshi
    refuses, and we record what it says (the money becomes a refund owed)."""
    trans_id = str(payload["trans_id"])
    try:
        await ctx.rt.fapshi.expire_pay(trans_id)
    except PermanentProviderError as exc:
        if exc.status != 400:
            raise
    return await payments.check_with_fapshi(ctx.rt, trans_id)


async def expire_stale_sessions(ctx: JobContext, payload: dict[str, Any]) -> str:
    """Unpaid and unapproved sessions whose hold ran out expire (their time is free already:
    a booking never waits for this sweep), links closed, bookers told; proposed moves nobody
    answered in time expire too, their held slot freed."""
    released = await lapses.sweep_lapsed(ctx.rt)
    expired = await proposals.sweep_expired(ctx.rt)
    return f"{released} lapsed holds released, {expired} unanswered moves expired"
