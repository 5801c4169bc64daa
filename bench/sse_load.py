"""`python -m bench.sse_load HOST PORT COUNT`: one load-generator process holding COUNT SSE
streams on bare sockets (uvloop protocols, no HTTP library), so that `bench.fanout` can run
several of them beside the server and tell the server's delay from the client's own.

For each event received it records three clocks: the commit time the benchmark put in the
event (`t0`), the server's time when it wrote the bytes (the `:t` comment that begins each
write), and its own time when the bytes arrived. Lines on stdin drive it: `report` answers
one JSON line (deliveries, the delays, streams the server closed, events out of order, its
own CPU seconds), `reset` starts counting afresh; end of input stops it. Benchmark-only.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

HEAD_END = b"\r\n\r\n"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Totals:
    def __init__(self) -> None:
        self.opened = self.refused = self.closed = self.out_of_order = 0
        self.server: list[float] = []  # commit → the server's write
        self.client: list[float] = []  # the server's write → read here
        self.total: list[float] = []  # commit → read here
        self.stopping = False
        self.cpu_at_reset = cpu_seconds()

    def reset(self) -> None:
        self.server, self.client, self.total = [], [], []
        self.closed = self.out_of_order = 0
        self.cpu_at_reset = cpu_seconds()

    def report(self) -> dict[str, Any]:
        return {"opened": self.opened, "refused": self.refused, "closed": self.closed,
                "out_of_order": self.out_of_order, "server": self.server,
                "client": self.client, "total": self.total,
                "cpu_s": cpu_seconds() - self.cpu_at_reset}


class Stream(asyncio.Protocol):
    def __init__(self, request: bytes, totals: Totals, opened: asyncio.Future[bool]) -> None:
        self.request, self.totals, self.opened = request, totals, opened
        self.buffer = b""
        self.in_head = True
        self.stamp = 0.0
        self.last_id = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)
        elif not self.totals.stopping:
            self.totals.closed += 1  # the server ended the stream (dropped as too slow)

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        buffer = self.buffer + data
        if self.in_head:
            end = buffer.find(HEAD_END)
            if end < 0:
                self.buffer = buffer
                return
            ok = buffer.startswith(b"HTTP/1.1 200 ")
            if not self.opened.done():
                self.opened.set_result(ok)
            self.in_head = False
            buffer = buffer[end + 4:]
        *lines, self.buffer = buffer.split(b"\n")
        for line in lines:
            if line.startswith(b":t "):
                self.stamp = float(line[3:])
            elif line.startswith(b"id:"):
                event_id = int(line[3:])
                if event_id <= self.last_id:
                    self.totals.out_of_order += 1
                self.last_id = event_id
            elif line.startswith(b"data:") and b'"t0"' in line:
                t0 = json.loads(line[5:])["t0"]
                self.totals.total.append(arrived - t0)
                if self.stamp:  # a server that stamps its writes
                    self.totals.server.append(self.stamp - t0)
                    self.totals.client.append(arrived - self.stamp)


async def main(host: str, port: int, count: int, auth: str) -> None:
    loop = asyncio.get_running_loop()
    totals = Totals()
    request = (f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {auth}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    transports = []
    gate = asyncio.Semaphore(100)  # connect as reconnecting clients would: not all at once

    async def open_one() -> None:
        async with gate:
            opened: asyncio.Future[bool] = loop.create_future()
            try:
                transport, _ = await loop.create_connection(
                    lambda: Stream(request, totals, opened), host, port)
            except OSError:
                totals.refused += 1
                return
            transports.append(transport)
            if await opened:
                totals.opened += 1
            else:
                totals.refused += 1

    await asyncio.gather(*(open_one() for _ in range(count)))
    print(json.dumps({"ready": totals.opened, "refused": totals.refused}), flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if line.strip() == b"reset":
            totals.reset()
        elif line.strip() == b"report":
            print(json.dumps(totals.report()), flush=True)
    totals.stopping = True
    for transport in transports:
        transport.close()


if __name__ == "__main__":
    import uvloop

    host, port, count, auth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    uvloop.run(main(host, port, count, auth))
