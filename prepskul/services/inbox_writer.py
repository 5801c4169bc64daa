"""Group commit for the webhook inbox: deliveries that arrive together are stored together —
one statement (their inbox rows and their processing jobs, as the queue store would
enqueue them), one commit — and each sender is
answered only once that commit is durable. Alone, a delivery waits for nobody; under a burst,
one fsync serves many.

Two batches are in flight at most (one fills while the other commits). Each writer keeps a
connection of its own and sends a single autocommitted statement: one round trip per batch,
where a pooled transaction would cost four (liveness ping, BEGIN, the statement, COMMIT). A
connection that fails is dropped; that batch's senders get a 5xx and retry, and the next
batch reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

import asyncpg

from prepskul import metrics
from prepskul.db.engine import connect
from prepskul.queue.kinds import WEBHOOK_JOBS, JobStatus
from prepskul.queue.store import MAX_ATTEMPTS
from prepskul.runtime import Runtime
from prepskul.services.inbox import Delivery, sanitize, storable_key

MAX_BATCH = 256

_STORE = """
    WITH incoming AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bytea[], $5::text[])
                 AS t(provider, delivery_key, headers, body, source_ip)
    ), stored AS (
        INSERT INTO prepskul.webhook_events
            (provider, delivery_key, headers, body, source_ip, verified, state, attempts)
        SELECT provider, delivery_key, headers, body, source_ip, true, 'received', 0
          FROM incoming
        ON CONFLICT (provider, delivery_key) WHERE verified DO NOTHING
        RETURNING id, provider, delivery_key
    ), queued AS (  -- what the queue store's enqueue writes, for many rows in one statement
        INSERT INTO prepskul.jobs (kind, payload, dedupe_key, status, attempts, max_attempts,
                                   run_at)
        SELECT kinds.kind, jsonb_build_object('event_id', id), 'webhook:' || id, $8, 0, $9,
               $10::timestamptz
          FROM stored JOIN unnest($6::text[], $7::text[]) AS kinds(provider, kind) USING (provider)
        ON CONFLICT (dedupe_key) DO NOTHING
    )
    SELECT id, provider, delivery_key FROM stored
    """


@dataclass
class _Pending:
    delivery: Delivery
    key: str
    done: asyncio.Future[tuple[int | None, bool]]


@dataclass
class InboxWriter:
    rt: Runtime
    writers: int = 2  # batches in flight at once: one fills while another commits
    _queue: list[_Pending] = field(default_factory=list)
    _busy: int = 0
    _idle: list[asyncpg.Connection] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def accept(self, delivery: Delivery, *, delivery_key: str) -> tuple[int | None, bool]:
        """Store one verified delivery (and its processing job); (event id, is_new) once
        durable. Raises what the database raised: the sender then gets a 5xx and retries."""
        pending = _Pending(delivery, storable_key(delivery_key),
                           asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if self._busy < self.writers:
            # Start a writer. Otherwise a busy writer takes this delivery in its next batch:
            # a writer only stops when it finds the queue empty, with no await in between.
            # Writers are tasks, not the sender's own coroutine, so a sender is answered as
            # soon as its batch is durable, however long the burst keeps a writer busy.
            self._busy += 1
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await pending.done

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    stored = await self._write(batch)
                except Exception as exc:
                    for item in batch:
                        if not item.done.done():  # its sender may have hung up meanwhile
                            item.done.set_exception(exc)
                    continue
                for item in batch:
                    event_id = stored.pop((item.delivery.provider, item.key), None)
                    new = event_id is not None
                    metrics.WEBHOOKS.labels(item.delivery.provider,
                                            "accepted" if new else "duplicate").inc()
                    if not item.done.done():  # stored all the same; nobody left to tell
                        item.done.set_result((event_id, new))
        finally:
            self._busy -= 1

    async def _write(self, batch: list[_Pending]) -> dict[tuple[str, str], int]:
        conn = self._idle.pop() if self._idle else await connect(
            self.rt.database_url, pool_mode=self.rt.settings.database_pool_mode)
        try:
            rows = await conn.fetch(
                _STORE,
                [p.delivery.provider for p in batch],
                [p.key for p in batch],
                [json.dumps(sanitize(p.delivery.headers)) for p in batch],
                [p.delivery.body for p in batch],
                [p.delivery.source_ip for p in batch],
                list(WEBHOOK_JOBS),
                [kind.value for kind in WEBHOOK_JOBS.values()],
                JobStatus.QUEUED.value,
                MAX_ATTEMPTS,
                self.rt.clock.now(),
            )
        except Exception:
            await _close(conn)  # whatever broke, the next batch starts on a fresh connection
            raise
        self._idle.append(conn)
        return {(provider, key): event_id for event_id, provider, key in rows}

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    with contextlib.suppress(Exception):  # it may be dead already
        await conn.close(timeout=2)
