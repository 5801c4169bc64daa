"""Reading the ledger back in tests: balances by account and the invariants."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from prepskul.db.models import LedgerAccount, LedgerEntry
from prepskul.services import ledger


async def balance(rt: Any, kind: str, owner: uuid.UUID | str | None = None) -> int:
    owner_id = uuid.UUID(str(owner)) if owner else None
    async with rt.sessions() as db:
        where = (LedgerAccount.owner_id.is_(None) if owner_id is None
                 else LedgerAccount.owner_id == owner_id)
        found = await db.scalar(select(LedgerAccount.balance_xaf)
                                .where(LedgerAccount.kind == kind, where))
        return int(found or 0)


async def assert_ledger_sound(rt: Any) -> None:
    """Every transaction balances, every kept balance is the sum of its entries, nothing
    but the outside world is below zero, and the whole ledger sums to zero."""
    async with rt.sessions() as db:
        assert await ledger.unbalanced_transactions(db) == 0
        sums = (select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_xaf).label("s"))
                .group_by(LedgerEntry.account_id).subquery())
        rows = (await db.execute(
            select(LedgerAccount.kind, LedgerAccount.balance_xaf, func.coalesce(sums.c.s, 0))
            .outerjoin(sums, sums.c.account_id == LedgerAccount.id))).all()
    for kind, kept, summed in rows:
        assert kept == summed, kind
        assert kind == "outside" or kept >= 0, kind
    assert sum(kept for _, kept, _ in rows) == 0
