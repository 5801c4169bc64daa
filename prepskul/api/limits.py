"""Limits that protect the service from hostile input without hurting real traffic."""

from __future__ import annotations

import json
import time
from collections import deque

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(HTTPException):
    """An HTTP error, so that FastAPI's body parsing (which turns other read errors into
    400s) lets it through as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over {limit // 1024} KB.")


class BodyLimit:
    """Refuse request bodies over a size, before reading them into memory where the length
    is declared, and as soon as the limit is passed where it is not (chunked uploads)."""

    def __init__(self, app: ASGIApp, *, default: int, webhooks: int) -> None:
        self.app, self.default, self.webhooks = app, default, webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.webhooks if scope["path"].startswith("/api/webhooks/") else self.default
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"code": "too_large",
                       "message": f"The request body is over {limit // 1024} KB."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RejectionLimiter:
    """Counts only *refused* webhook deliveries per source. Consulted only after a delivery
    failed verification, so it slows a forger and can never hold back a real one."""

    def __init__(self, limit: int = 30, window: float = 60.0, max_sources: int = 10_000) -> None:
        self.limit, self.window, self.max_sources = limit, window, max_sources
        self._refused: dict[str, deque[float]] = {}

    def blocked(self, source: str | None) -> bool:
        recent = self._recent(source or "-")
        return len(recent) >= self.limit

    def refused(self, source: str | None) -> None:
        if len(self._refused) >= self.max_sources:
            self._refused.clear()  # bounded memory beats perfect memory under a flood
        self._recent(source or "-").append(time.monotonic())

    def _recent(self, source: str) -> deque[float]:
        times = self._refused.setdefault(source, deque())
        while times and time.monotonic() - times[0] > self.window:
            times.popleft()
        return times
