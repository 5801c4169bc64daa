"""Posting to the ledger and reading balances. Every movement is posted in the caller's
transaction, beside the change that causes it; its key makes a repeat a no-op."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from prepskul.db.models import LedgerAccount, LedgerEntry, LedgerTransaction
from prepskul.domain.errors import Conflict
from prepskul.domain.ledger import MAY_GO_NEGATIVE, PERSONAL, Account, AccountKind, Movement
from prepskul.services import feed

CHECK_VIOLATION = "23514"


class InsufficientFunds(Conflict):
    def __init__(self) -> None:
        super().__init__("insufficient_balance",
                         "There is not enough money in that balance for this.")


async def account_id(db: AsyncSession, account: Account) -> int:
    """The account's row, created on first use. Looked up first: past its first posting an
    account exists, and the look-up alone is one round trip where insert-then-select was
    two on every posting (BENCHMARKS.md §7). A concurrent first use is safe: our insert
    then waits for theirs and does nothing, and the second look-up sees their row."""
    look_up = select(LedgerAccount.id).where(*_row_of(account))
    found = await db.scalar(look_up)
    if found is None:
        await db.execute(
            insert(LedgerAccount).values(
                kind=account.kind, owner_id=account.owner,
                may_go_negative=account.kind in MAY_GO_NEGATIVE, balance_xaf=0,
            ).on_conflict_do_nothing(constraint="uq_ledger_accounts_kind_owner")
        )
        found = await db.scalar(look_up)
    assert found is not None
    return int(found)


async def post(
    db: AsyncSession, movement: Movement, *, now: datetime,
    session_id: uuid.UUID | None = None, actor_id: uuid.UUID | None = None,
) -> bool:
    """Post a movement; False when its key was posted before (nothing changes). A balance
    that would go below zero raises `InsufficientFunds` and posts nothing."""
    ids = [await account_id(db, e.account) for e in movement.entries]
    try:
        async with db.begin_nested():
            txn = (await db.execute(
                insert(LedgerTransaction).values(
                    key=movement.key, kind=movement.kind, memo=movement.memo,
                    session_id=session_id, actor_id=actor_id, created_at=now,
                ).on_conflict_do_nothing(index_elements=["key"]).returning(LedgerTransaction.id)
            )).scalar_one_or_none()
            if txn is None:
                return False
            await db.execute(insert(LedgerEntry), [
                {"transaction_id": txn, "account_id": a, "amount_xaf": e.amount}
                for a, e in zip(ids, movement.entries, strict=True)
            ])
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == CHECK_VIOLATION:
            raise InsufficientFunds() from None
        raise
    await _announce(db, movement, ids, session_id)
    return True


async def _announce(db: AsyncSession, movement: Movement, ids: list[int],
                    session_id: uuid.UUID | None) -> None:
    """Each person whose own balance moved sees it on the change feed: what moved in their
    accounts and those accounts' balances after it — only theirs, never the other party's
    share of the same movement. One read for all of them, and none when no person's money
    moved (a payment into clearing, a platform fee)."""
    mine = [(a, e) for a, e in zip(ids, movement.entries, strict=True)
            if e.account.kind in PERSONAL and e.account.owner is not None]
    if not mine:
        return
    after = {row.id: row.balance_xaf for row in await db.execute(
        select(LedgerAccount.id, LedgerAccount.balance_xaf).where(
            LedgerAccount.id.in_([a for a, _ in mine])))}
    moved: dict[uuid.UUID, tuple[dict[str, int], dict[str, int]]] = {}
    for account, entry in mine:
        assert entry.account.owner is not None
        changes, balances = moved.setdefault(entry.account.owner, ({}, {}))
        kind = entry.account.kind.value
        changes[kind] = changes.get(kind, 0) + entry.amount
        balances[kind] = int(after[account])
    for owner, (changes, balances) in moved.items():
        feed.record_private(db, "balance.changed", [owner], {
            "reason": movement.kind, "change_xaf": changes, "balance_xaf": balances,
        }, session_id=session_id)


def _row_of(account: Account) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (LedgerAccount.kind == account.kind,
            LedgerAccount.owner_id.is_(None) if account.owner is None
            else LedgerAccount.owner_id == account.owner)


async def balance(db: AsyncSession, account: Account) -> int:
    found = await db.scalar(select(LedgerAccount.balance_xaf).where(*_row_of(account)))
    return int(found or 0)


async def balances_of(db: AsyncSession, owner: uuid.UUID) -> dict[AccountKind, int]:
    rows = await db.execute(select(LedgerAccount.kind, LedgerAccount.balance_xaf)
                            .where(LedgerAccount.owner_id == owner))
    return {k: int(b) for k, b in rows.all()}


async def lock(db: AsyncSession, account: Account) -> int:
    """Lock an account's row and return its balance: for decisions that read a balance and
    then move it (the posting would be refused anyway; this makes the answer clear)."""
    ident = await account_id(db, account)
    found = await db.scalar(select(LedgerAccount.balance_xaf)
                            .where(LedgerAccount.id == ident).with_for_update())
    return int(found or 0)


async def unbalanced_transactions(db: AsyncSession) -> int:
    """Transactions whose entries do not sum to zero (the database refuses them; counted by
    the property tests and the daily check)."""
    sums = select(func.sum(LedgerEntry.amount_xaf).label("total")).group_by(
        LedgerEntry.transaction_id).subquery()
    return int(await db.scalar(select(func.count()).where(sums.c.total != 0)) or 0)
