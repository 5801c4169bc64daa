"""Group commit for the webhook inbox: deliveries that arrive together are stored together —
one statement (their inbox rows and their processing jobs), one commit — and each sender is
answered only once that commit is durable. Alone, a delivery waits for nobody; under a burst,
one fsync serves many."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from sqlalchemy import text

from prepskul import metrics
from prepskul.runtime import Runtime
from prepskul.services.inbox import Delivery, sanitize

MAX_BATCH = 256

_STORE = text(
    """
    WITH incoming AS (
        SELECT * FROM unnest(CAST(:providers AS text[]), CAST(:keys AS text[]),
                             CAST(:headers AS jsonb[]), CAST(:bodies AS bytea[]),
                             CAST(:ips AS text[]))
                 AS t(provider, delivery_key, headers, body, source_ip)
    ), stored AS (
        INSERT INTO prepskul.webhook_events
            (provider, delivery_key, headers, body, source_ip, verified, state, attempts)
        SELECT provider, delivery_key, headers, body, source_ip, true, 'received', 0
          FROM incoming
        ON CONFLICT (provider, delivery_key) WHERE verified DO NOTHING
        RETURNING id, provider, delivery_key
    ), queued AS (
        INSERT INTO prepskul.jobs (kind, payload, dedupe_key, status, attempts, max_attempts,
                                   run_at)
        SELECT 'process_' || provider || '_webhook', jsonb_build_object('event_id', id),
               'webhook:' || id, 'queued', 0, 8, :now
          FROM stored
        ON CONFLICT (dedupe_key) DO NOTHING
    )
    SELECT id, provider, delivery_key FROM stored
    """
)


@dataclass
class _Pending:
    delivery: Delivery
    key: str
    done: asyncio.Future[tuple[int | None, bool]]


@dataclass
class InboxWriter:
    rt: Runtime
    _queue: list[_Pending] = field(default_factory=list)
    _writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def accept(self, delivery: Delivery, *, delivery_key: str) -> tuple[int | None, bool]:
        """Store one verified delivery (and its processing job); (event id, is_new) once
        durable. Raises what the database raised: the sender then gets a 5xx and retries."""
        pending = _Pending(delivery, delivery_key, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        await self._flush()
        return await pending.done

    async def _flush(self) -> None:
        # Whoever holds the lock writes everything queued so far; the others find their
        # delivery already written (or in the batch being written) when they get the lock.
        async with self._writing:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    stored = await self._write(batch)
                except Exception as exc:
                    for item in batch:
                        item.done.set_exception(exc)
                    continue
                for item in batch:
                    event_id = stored.pop((item.delivery.provider, item.key), None)
                    new = event_id is not None
                    metrics.WEBHOOKS.labels(item.delivery.provider,
                                            "accepted" if new else "duplicate").inc()
                    item.done.set_result((event_id, new))

    async def _write(self, batch: list[_Pending]) -> dict[tuple[str, str], int]:
        params = {
            "providers": [p.delivery.provider for p in batch],
            "keys": [p.key for p in batch],
            "headers": [json.dumps(sanitize(p.delivery.headers)) for p in batch],
            "bodies": [p.delivery.body for p in batch],
            "ips": [p.delivery.source_ip for p in batch],
            "now": self.rt.clock.now(),
        }
        async with self.rt.engine.begin() as conn:
            rows = (await conn.execute(_STORE, params)).all()
        return {(provider, key): event_id for event_id, provider, key in rows}
