"""The live change feed inside one process: a single LISTEN connection (not one per
subscriber), the committed `change_events` rows it announces fetched by id, and each event
handed to the subscribers allowed to see it.

Fan-out is one pass of the hub's task over the event's audience (the people named, plus the
operators), writing the event's frame (encoded once) to each idle stream's socket at once;
a stream busy writing finds the event in its pending list and writes everything pending in
one send. No queue, no task woken per event: at thousands of streams, a wake-up and a future
per delivery cost more than the write, and the futures, living until the next event, fed
the garbage collector's full passes.

A client too slow to keep up is dropped rather than allowed to hold memory: when its socket
is backed up (the kernel's buffers and the server's 64 KiB write buffer full, a write
waiting) and `max_pending` more events wait behind it, its stream ends and
`prepskul_sse_dropped_total{reason="slow"}` counts it; it reconnects with `Last-Event-ID`
and the durable log fills the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import asyncpg
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul import metrics
from prepskul.db.models import ChangeEvent, Profile
from prepskul.domain.people import Role
from prepskul.runtime import Runtime

log = logging.getLogger(__name__)
RETENTION = timedelta(days=7)
MAX_PENDING = 256  # events waiting for one slow client's socket before its stream ends
HEARTBEAT_SECONDS = 15.0  # a comment on every stream, so proxies keep an idle one open


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
        return sse_frame(json.dumps(self.payload), event=self.type, id=self.id)


def sse_frame(data: str, *, event: str, id: int | None = None) -> bytes:
    """One Server-Sent Event. `data` is JSON, which never holds a line break."""
    head = f"id: {id}\n" if id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


Sink = Callable[[bytes], Awaitable[None]]


class _Rest:
    """The rest of a write begun outside its stream's task that had to wait (its socket
    backed up): awaited by the stream's task, it passes up what the write waits on."""

    __slots__ = ("coro", "waiting_on")

    def __init__(self, coro: Generator[Any, Any, None], waiting_on: Any) -> None:
        self.coro, self.waiting_on = coro, waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting_on = self.coro, self.waiting_on
        while True:
            try:
                value = yield waiting_on
            except BaseException as exc:  # cancelled while waiting: into the write
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coro.send(value)
                except StopIteration:
                    return


@dataclass(eq=False)
class Subscriber:
    """One open stream. While its task is idle, the hub writes an event to it at once (the
    write rarely has to wait: a socket with room takes it whole); otherwise the event waits
    in `pending` for the stream's task, which writes all that is pending in one go."""

    user_id: uuid.UUID
    is_admin: bool
    max_pending: int = MAX_PENDING
    pending: list[LiveEvent] = field(default_factory=list)
    skip: frozenset[int] = frozenset()  # ids already sent in the replay
    dropped: bool = False  # ended by the hub: too slow, or beyond its person's cap
    closed: bool = False  # ended: dropped, or the client went away
    ping: bool = False
    _sink: Sink | None = None  # set while the stream's task is idle: the hub may write
    _rest: _Rest | None = None
    _writing: bool = False
    _waiter: asyncio.Future[None] | None = None

    def may_see(self, event: LiveEvent) -> bool:
        return self.is_admin or self.user_id in event.audience

    @property
    def backed_up(self) -> bool:
        """A write is waiting for room on the socket."""
        return self._writing or self._rest is not None

    def offer(self, event: LiveEvent) -> bool:
        """Write or queue an event for this stream; False if its socket is backed up with
        `max_pending` events waiting. A burst to a stream whose task has not had its turn
        yet is not held against it: the events are shared, a pending one is a reference."""
        if event.id in self.skip:
            return True
        if self._sink is not None and self._rest is None and not self.closed:
            self._write_now(self._sink, event.frame)
            return True
        if len(self.pending) >= self.max_pending and self.backed_up:
            return False
        self.pending.append(event)
        self._wake()
        return True

    def close(self) -> None:
        self.closed = True
        self.pending = []
        self._wake()

    def heartbeat(self) -> None:
        if self._sink is not None and self._rest is None and not self.closed:
            self._write_now(self._sink, b"\n")
        else:
            self.ping = True
            self._wake()

    async def serve(self, sink: Sink, first: bytes) -> None:
        """Write `first`, then every event offered, until the stream ends."""
        await self._write(sink(first))
        while not self.closed:
            if not (self.pending or self.ping or self._rest):
                self._sink = sink  # idle: the hub writes directly
                await self._sleep()
                self._sink = None
            if self._rest is not None:
                await self._write(self._rest)
                self._rest = None
            if self.closed:
                return
            batch, self.pending, ping, self.ping = self.pending, [], self.ping, False
            if batch or ping:
                await self._write(sink(b"".join(e.frame for e in batch) or b"\n"))

    def _write_now(self, sink: Sink, body: bytes) -> None:
        write = sink(body).__await__()
        try:
            waiting_on = write.send(None)
        except StopIteration:
            return  # written
        except OSError:
            self.close()  # the client is gone
            return
        except Exception:  # one stream's failure never stops the fan-out to the others
            log.exception("live stream: a write failed; the stream ends")
            self.close()
            return
        self._rest = _Rest(write, waiting_on)  # the stream's task finishes it
        self._wake()

    async def _write(self, write: Awaitable[None]) -> None:
        self._writing = True
        try:
            await write
        finally:
            self._writing = False

    async def _sleep(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


@dataclass
class Hub:
    rt: Runtime
    max_pending: int = MAX_PENDING
    # Streams one person may hold open: a sixth closes their oldest (a forgotten tab), so a
    # token cannot hold a thousand streams and their memory.
    max_per_person: int = 5
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    subscribers: set[Subscriber] = field(default_factory=set)
    _by_person: dict[uuid.UUID, list[Subscriber]] = field(default_factory=dict)
    _admins: set[Subscriber] = field(default_factory=set)
    _pending: list[int] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._beat())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in list(self.subscribers):
            self.unsubscribe(sub)

    def subscribe(self, profile: Profile) -> Subscriber:
        sub = Subscriber(profile.id, profile.role == Role.ADMIN, self.max_pending)
        while len(theirs := self._by_person.get(sub.user_id, [])) >= self.max_per_person:
            self._drop(theirs[0], "over_cap")  # their oldest; dropping shortens the list
        self._by_person.setdefault(sub.user_id, []).append(sub)
        if sub.is_admin:
            self._admins.add(sub)
        self.subscribers.add(sub)
        metrics.SSE_SUBSCRIBERS.set(len(self.subscribers))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        sub.close()
        self.subscribers.discard(sub)
        self._admins.discard(sub)
        theirs = self._by_person.get(sub.user_id, [])
        if sub in theirs:
            theirs.remove(sub)
        if not theirs:
            self._by_person.pop(sub.user_id, None)
        metrics.SSE_SUBSCRIBERS.set(len(self.subscribers))

    def audience_of(self, event: LiveEvent) -> list[Subscriber]:
        """The open streams allowed to see an event: the operators' and its people's."""
        subs = list(self._admins)
        for person in event.audience:
            subs += [s for s in self._by_person.get(person, ()) if not s.is_admin]
        return subs

    def dispatch(self, event: LiveEvent) -> None:
        for sub in self.audience_of(event):
            if not sub.offer(event):
                self._drop(sub, "slow")

    def _drop(self, sub: Subscriber, reason: str) -> None:
        """End a stream: the client reconnects and catches up from the log."""
        sub.dropped = True
        metrics.SSE_DROPPED.labels(reason).inc()
        self.unsubscribe(sub)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            for sub in list(self.subscribers):
                sub.heartbeat()

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
