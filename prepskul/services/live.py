"""The live change feed inside one process: a single LISTEN connection (not one per
subscriber), the committed `change_events` rows it announces fetched by id, and each event
handed to the subscribers allowed to see it.

Every subscriber has a bounded queue: a client too slow to keep up is dropped rather than
allowed to hold memory; it reconnects with `Last-Event-ID` and the durable log fills the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import asyncpg
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import ServerSentEvent

from prepskul import metrics
from prepskul.db.models import ChangeEvent, Profile
from prepskul.domain.people import Role
from prepskul.runtime import Runtime

log = logging.getLogger(__name__)
RETENTION = timedelta(days=7)


@dataclass(frozen=True, eq=False)
class LiveEvent:
    id: int
    type: str
    session_id: str | None
    audience: frozenset[uuid.UUID]
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: ChangeEvent) -> LiveEvent:
        return cls(row.id, row.type, str(row.session_id) if row.session_id else None,
                   frozenset(row.audience),
                   {"type": row.type, "session_id": str(row.session_id) if row.session_id
                    else None, "at": row.at.isoformat(), **row.data})

    @cached_property
    def frame(self) -> bytes:
        """The SSE frame, encoded once and shared by every subscriber who receives it."""
        return ServerSentEvent(data=json.dumps(self.payload), event=self.type,
                               id=str(self.id)).encode()


@dataclass(eq=False)
class Subscriber:
    user_id: uuid.UUID
    is_admin: bool
    queue: asyncio.Queue[LiveEvent | None]
    dropped: bool = False

    def may_see(self, event: LiveEvent) -> bool:
        return self.is_admin or self.user_id in event.audience


@dataclass
class Hub:
    rt: Runtime
    queue_size: int = 256
    # Streams one person may hold open: a sixth closes their oldest (a forgotten tab), so a
    # token cannot hold a thousand streams and their memory.
    max_per_person: int = 5
    subscribers: set[Subscriber] = field(default_factory=set)
    _by_person: dict[uuid.UUID, list[Subscriber]] = field(default_factory=dict)
    _pending: list[int] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for sub in list(self.subscribers):
            self._drop(sub)

    def subscribe(self, profile: Profile) -> Subscriber:
        sub = Subscriber(profile.id, profile.role == Role.ADMIN,
                         asyncio.Queue(maxsize=self.queue_size))
        while len(theirs := self._by_person.get(sub.user_id, [])) >= self.max_per_person:
            self._drop(theirs[0])  # their oldest; unsubscribing it shortens the list
        self._by_person.setdefault(sub.user_id, []).append(sub)
        self.subscribers.add(sub)
        metrics.SSE_SUBSCRIBERS.set(len(self.subscribers))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        theirs = self._by_person.get(sub.user_id, [])
        if sub in theirs:
            theirs.remove(sub)
        if not theirs:
            self._by_person.pop(sub.user_id, None)
        metrics.SSE_SUBSCRIBERS.set(len(self.subscribers))

    def dispatch(self, event: LiveEvent) -> None:
        for sub in list(self.subscribers):
            if sub.dropped or not sub.may_see(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop(sub)

    def _drop(self, sub: Subscriber) -> None:
        """End a stream: the client reconnects and catches up from the log."""
        sub.dropped = True
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)
        self.unsubscribe(sub)

    async def _run(self) -> None:
        """Listen, reconnecting after a database loss; fetch announced rows in batches."""
        while True:
            try:
                conn = await asyncpg.connect(self.rt.plain_dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("change feed: cannot LISTEN (%s); retrying", exc)
                await asyncio.sleep(1)
                continue
            try:
                await conn.add_listener("prepskul_changes", self._announced)
                while not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=5)
                    self._wake.clear()
                    await self._deliver_pending()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("change feed: listener lost (%s); reconnecting", exc)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    def _announced(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload.isdigit():
            self._pending.append(int(payload))
            self._wake.set()

    async def _deliver_pending(self) -> None:
        ids, self._pending = self._pending, []
        if not ids:
            return
        async with self.rt.sessions() as db:
            rows = (await db.scalars(select(ChangeEvent).where(ChangeEvent.id.in_(ids))
                                     .order_by(ChangeEvent.id))).all()
        for row in rows:
            self.dispatch(LiveEvent.of(row))
            # Since its transaction's start (`at`; the commit follows within milliseconds).
            metrics.CHANGE_DELIVERY.observe(max(0.0, time.time() - row.at.timestamp()))


async def replay(rt: Runtime, viewer: Profile, after: int, limit: int = 1000) -> list[LiveEvent]:
    """What the viewer missed since event `after` (for `Last-Event-ID`)."""
    query = select(ChangeEvent).where(ChangeEvent.id > after).order_by(ChangeEvent.id)
    if viewer.role != Role.ADMIN:
        query = query.where(ChangeEvent.audience.contains([viewer.id]))
    async with rt.sessions() as db:
        rows = (await db.scalars(query.limit(limit))).all()
    return [LiveEvent.of(r) for r in rows]


async def latest_id(db: AsyncSession) -> int:
    """The newest event's id: a page rendered now resumes its stream from here."""
    return int(await db.scalar(select(func.max(ChangeEvent.id))) or 0)


async def oldest_kept(rt: Runtime) -> int | None:
    async with rt.sessions() as db:
        return await db.scalar(select(ChangeEvent.id).order_by(ChangeEvent.id).limit(1))


async def purge(rt: Runtime) -> int:
    """Bounded retention: the log keeps a week, enough for any reconnect. How many went."""
    async with rt.sessions.begin() as db:
        result = await db.execute(
            delete(ChangeEvent).where(ChangeEvent.at < rt.clock.now() - RETENTION))
    return int(result.rowcount)  # type: ignore[attr-defined]
