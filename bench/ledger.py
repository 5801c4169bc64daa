"""Ledger postings per second under concurrent payments and payouts, against a floor in the
same run. Half the workers take payments in (`money.collect`: outside → a payer's credit);
the other half pay out, as `services.payouts` posts it: lock the payer's credit and reserve
(credit → reserved), send (reserved → in flight), paid (in flight → outside) — three
postings, three transactions, two accounts created per payout. Every posting is its own
transaction and touches the shared `outside` account's row but the reserve, so they queue
on that row lock as in production.

Ours is `ledger.post` through SQLAlchemy, in-process (no HTTP: this is the posting path,
not a route). The floor is bare asyncpg doing the same postings in the same tables (same
triggers, same balance checks): one transaction each, `INSERT … RETURNING` the transaction,
one `INSERT` of its two entries, account ids cached after their first upsert. Postgres's
own CPU per posting is reported for both."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.harness import cpu_seconds, median, percentile
from prepskul.db.engine import make_engine, make_session_factory, plain_dsn
from prepskul.domain.ledger import OUTSIDE, Account, AccountKind, transfer
from prepskul.services import ledger, money

LEVELS = (1, 8, 32)  # concurrent workers, half paying in, half paying out
SECONDS = float(os.environ.get("BENCH_SECONDS", "2")) * 1.5
AMOUNT = 3500
PAYERS = 16

Post = Callable[[str, str, Account, Account, int, bool], Awaitable[None]]


def _credit(n: int) -> Account:
    return Account(AccountKind.CREDIT, uuid.UUID(int=n + 1))


async def _backend_cpu(url: str) -> float:
    """CPU seconds used so far by the Postgres backends connected to this database (the
    benchmark's own: each benchmark has a database of its own), this query's excepted."""
    import psutil

    conn = await asyncpg.connect(plain_dsn(url))
    pids = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid()")
    await conn.close()
    total = 0.0
    for row in pids:
        try:
            times = psutil.Process(row["pid"]).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def _drive(url: str, workers: int, post: Post) -> dict[str, float]:
    """`workers` loops for SECONDS: even ones collect payments, odd ones run payouts."""
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS
    run = uuid.uuid4().hex[:8]

    async def timed(key: str, kind: str, source: Account, target: Account,
                    lock: bool = False) -> None:
        began = time.perf_counter()
        await post(key, kind, source, target, AMOUNT, lock)
        latencies.append((time.perf_counter() - began) * 1000)

    async def payments(w: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            await timed(f"collect:{run}{w}x{n}", "collect", OUTSIDE, _credit(w % PAYERS))

    async def payouts(w: int) -> None:
        while time.perf_counter() < deadline:
            payout = uuid.uuid4()
            reserved = Account(AccountKind.RESERVED, payout)
            in_flight = Account(AccountKind.IN_FLIGHT, payout)
            await timed(f"reserve:{payout}", "payout_reserved", _credit(w % PAYERS), reserved,
                        lock=True)
            await timed(f"send:{payout}", "payout_sent", reserved, in_flight)
            await timed(f"paid_out:{payout}", "payout_paid", in_flight, OUTSIDE)

    # Every connection open (and so counted) before the clock starts.
    await asyncio.gather(*(post(f"warm:{run}{w}", "collect", OUTSIDE, _credit(w % PAYERS), 1,
                                False) for w in range(workers)))
    pg_cpu, cpu = await _backend_cpu(url), cpu_seconds(os.getpid())
    began = time.perf_counter()
    await asyncio.gather(*(payments(w) if w % 2 == 0 else payouts(w) for w in range(workers)))
    took = time.perf_counter() - began
    cpu, pg_cpu = cpu_seconds(os.getpid()) - cpu, await _backend_cpu(url) - pg_cpu
    count = max(1, len(latencies))
    return {"postings_per_s": len(latencies) / took, "p50_ms": median(latencies),
            "p90_ms": percentile(latencies, 0.9), "p99_ms": percentile(latencies, 0.99),
            "client_cpu_ms": 1000 * cpu / count, "pg_cpu_ms": 1000 * pg_cpu / count}


async def _ours(url: str, workers: int) -> dict[str, float]:
    engine = make_engine(url, pool_size=workers)
    sessions = make_session_factory(engine)

    async def post(key: str, kind: str, source: Account, target: Account, amount: int,
                   lock: bool) -> None:
        async with sessions.begin() as db:
            now = datetime.now(UTC)
            if lock:  # what request_withdrawal does before it reserves
                await ledger.lock(db, source)
            if kind == "collect":
                await money.collect(db, now, trans_id=key, amount=amount, into=target,
                                    session_id=None)
                return
            movement = transfer(key, kind, source, {target: amount})
            assert movement is not None
            await ledger.post(db, movement, now=now)

    try:
        return await _drive(url, workers, post)
    finally:
        await engine.dispose()


async def _floor(url: str, workers: int) -> dict[str, float]:
    pool = await asyncpg.create_pool(plain_dsn(url), min_size=workers, max_size=workers)
    ids: dict[Account, int] = {}

    async def account(conn: asyncpg.Connection, a: Account) -> int:
        """Created on first use without locking it (as `ledger.account_id` does), then
        cached: a later posting's entries lock the rows in the order ours do."""
        if a not in ids:
            owner = "owner_id IS NULL" if a.owner is None else "owner_id = $2"
            found = await conn.fetchval(
                "WITH made AS (INSERT INTO prepskul.ledger_accounts (kind, owner_id, "
                "may_go_negative) VALUES ($1, $2, $3) ON CONFLICT ON CONSTRAINT "
                "uq_ledger_accounts_kind_owner DO NOTHING RETURNING id) SELECT id FROM made "
                f"UNION ALL SELECT id FROM prepskul.ledger_accounts WHERE kind = $1 AND {owner}",
                a.kind.value, a.owner, a.owner is None)
            if found is None:  # made meanwhile by another connection: visible now
                found = await conn.fetchval(
                    f"SELECT id FROM prepskul.ledger_accounts WHERE kind = $1 AND {owner}",
                    *(a.kind.value, a.owner)[:1 if a.owner is None else 2])
            ids[a] = found
        return ids[a]

    async def post(key: str, kind: str, source: Account, target: Account, amount: int,
                   lock: bool) -> None:
        async with pool.acquire() as conn, conn.transaction():
            pair = [await account(conn, source), await account(conn, target)]
            if lock:
                await conn.fetchval("SELECT balance_xaf FROM prepskul.ledger_accounts "
                                    "WHERE id = $1 FOR UPDATE", pair[0])
            txn = await conn.fetchval(
                "INSERT INTO prepskul.ledger_transactions (key, kind, memo, created_at) "
                "VALUES ($1, $2, '', now()) RETURNING id", key, kind)
            await conn.execute(
                "INSERT INTO prepskul.ledger_entries (transaction_id, account_id, amount_xaf) "
                "VALUES ($1, $2, $3), ($1, $4, $5)", txn, pair[0], -amount, pair[1], amount)

    try:
        return await _drive(url, workers, post)
    finally:
        await pool.close()


async def _fund(url: str) -> None:
    """Every payer starts with enough credit for all the payouts a run can make."""
    engine = make_engine(url, pool_size=1)
    async with make_session_factory(engine).begin() as db:
        for n in range(PAYERS):
            await money.collect(db, datetime.now(UTC), trans_id=f"fund{n}", amount=10**12,
                                into=_credit(n), session_id=None)
    await engine.dispose()


async def run(url: str) -> dict[str, Any]:
    await _fund(url)
    rows: list[dict[str, Any]] = []
    for workers in LEVELS:
        floor = await _floor(url, workers)
        ours = await _ours(url, workers)
        for name, figures in (("floor", floor), ("ours", ours)):
            rows.append({"workers": workers, "path": name, **figures,
                         "rate_vs_floor": figures["postings_per_s"] / floor["postings_per_s"]})
    return {"ledger": rows}
