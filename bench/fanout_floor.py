"""`python -m bench.fanout_floor PORT`: the floor for fan-out — the least any Python process
must do to deliver a committed change to every open stream. One LISTEN connection; on each
announcement the row fetched by id, its frame encoded once and written to every socket
straight from the loop (uvloop protocols: no HTTP framework, no per-stream task, no auth).
Answers every GET with a stream. Writes carry the same `:t` stamp and chunked framing as
`serve`'s, so the load generator reads both alike. Benchmark-only; never part of the service.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import asyncpg

from prepskul.db.engine import plain_dsn

HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n"
        b"transfer-encoding: chunked\r\n\r\n")
streams: set[asyncio.Transport] = set()


class Stream(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.head = b""

    def data_received(self, data: bytes) -> None:
        if self.head is not None:
            self.head += data
            if b"\r\n\r\n" in self.head:
                self.head = None  # type: ignore[assignment]
                self.transport.write(HEAD)
                streams.add(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        streams.discard(self.transport)


def chunk(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(body), body)


async def main(port: int) -> None:
    conn = await asyncpg.connect(plain_dsn(os.environ["DATABASE_URL"]))
    fetch = await asyncpg.connect(plain_dsn(os.environ["DATABASE_URL"]))
    pending: list[int] = []
    wake = asyncio.Event()

    def announced(_c: object, _p: int, _ch: str, payload: str) -> None:
        pending.append(int(payload))
        wake.set()

    await conn.add_listener("prepskul_changes", announced)
    server = await asyncio.get_running_loop().create_server(Stream, "127.0.0.1", port)
    async with server:
        while True:
            await wake.wait()
            wake.clear()
            ids = pending[:]
            pending.clear()
            rows = await fetch.fetch("SELECT id, type, data::text FROM prepskul.change_events "
                                     "WHERE id = ANY($1) ORDER BY id", ids)
            frames = b"".join(b"id: %d\nevent: %s\ndata: %s\n\n" % (
                r["id"], r["type"].encode(), json.dumps(json.loads(r["data"])).encode())
                for r in rows)
            for transport in streams:  # each write stamped, as `serve` stamps its own
                transport.write(chunk(b":t %.6f\n%s" % (time.time(), frames)))


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(int(sys.argv[1])))
