"""The HTTP server `serve` runs: uvicorn with httptools (the fastest parser we measured,
BENCHMARKS.md §1), given the two limits it lacks.

uvicorn's httptools protocol accepts a request head of any size and any slowness: a 50 MB
`Authorization` header was concatenated chunk by chunk (quadratic) and froze the whole
process for 10–14 s, and a client trickling its headers byte by byte held its connection
forever. Here the head is counted as it arrives: past `max_header_bytes` the connection is
answered 431 and closed before parsing another byte, and a head not complete within
`header_timeout` seconds is answered 408 and closed. A reverse proxy in front (compose's
Caddy) enforces the same again, with TLS and body timeouts of its own.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from prepskul.config import Settings

LINGER = 2.0
REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class HeadTooLarge(Exception):
    """Raised inside the parser's callback to stop it at an oversized head."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """One connection. `_head` counts the bytes received since the current request began
    (its request line and headers); the body is BodyLimit's business."""

    max_head_bytes = 32 * 1024
    head_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading_head = True
        self._head = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = self._oversized = False
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: read and drop, never parse
        if not self._reading_head:
            super().data_received(data)
            return
        # One read is at most a few hundred KB and may end the head and begin the body:
        # let the parser see it, then judge. What is refused is a head still open past the
        # limit, so at most one read beyond it is ever parsed (the cost was in thousands).
        self._head += len(data)
        self._arm_head_timer()
        super().data_received(data)
        if self._reading_head and self._head > self.max_head_bytes \
                and not self.transport.is_closing():
            self._refuse_too_large()

    def _refuse_too_large(self) -> None:
        self._refuse(431, f"The request headers are over {self.max_head_bytes // 1024} KB.")

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm_head_timer()
        # A whole head can arrive in one read: measure what the parser collected.
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.max_head_bytes:
            self._oversized = True
            raise HeadTooLarge  # stops the parser; uvicorn then answers via send_400_response
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._oversized:
            self._refuse_too_large()
        else:
            super().send_400_response(msg)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head, self._head = True, 0  # the next request on this connection

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self._reading_head or self.transport.is_closing():
            return
        if self._head == 0:  # an idle connection: nothing to answer, just let it go
            self.transport.close()
        else:
            self._refuse(408, "The request headers took too long to arrive.")

    def _refuse(self, status: int, message: str) -> None:
        code = {408: "headers_too_slow", 431: "headers_too_large"}[status]
        body = json.dumps({"code": code, "message": message}).encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, REASONS[status], len(body)) + body)
        self._reading_head, self._refused = False, True
        self._disarm_head_timer()
        # Closing with the sender's bytes unread would reset the connection, and the
        # sender could lose our answer with it: end our side, drop what still arrives,
        # and close once it stops (or after LINGER seconds, whichever is first).
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)


def server_config(app: Any, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """How every `serve` process (and the test suite's server) listens."""
    protocol = type("Bounded", (BoundedHttpToolsProtocol,), {
        "max_head_bytes": settings.max_header_bytes,
        "head_timeout": settings.header_timeout_seconds})
    return uvicorn.Config(app, host=host, port=port, http=protocol, log_config=None,
                          access_log=False, proxy_headers=True)
