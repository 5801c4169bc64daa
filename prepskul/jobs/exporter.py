"""A worker's own `/metrics`: what only it observes (provider calls, webhook processing,
payment → Meet) for Prometheus to scrape beside each `serve`. Queue depths are not here:
`serve` reads those from the database, so there is one truth however many workers run.

A tiny HTTP/1.0 answer on asyncio, guarded like `serve`'s `/metrics` (`METRICS_TOKEN`):
the worker has no web stack, and one GET every scrape interval does not need one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from http import HTTPStatus

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prepskul import metrics
from prepskul.config import Settings

log = logging.getLogger(__name__)
MAX_HEAD = 8 * 1024
HEAD_TIMEOUT = 5.0


def answer(settings: Settings, head: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) for one request head."""
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    path = rest.partition(" ")[0]
    if method != "GET" or path.partition("?")[0] != "/metrics":
        return 404, "application/json", b'{"code":"not_found","message":"Only GET /metrics."}'
    authorization = next((line.partition(":")[2].strip() for line in lines[1:]
                          if line.lower().startswith("authorization:")), "")
    refused = metrics.refusal(settings, authorization)
    if refused is not None:
        status, code, message = refused
        return status, "application/json", json.dumps({"code": code, "message": message}).encode()
    return 200, CONTENT_TYPE_LATEST, generate_latest(metrics.WORKER)


async def serve_metrics(settings: Settings, host: str, port: int) -> asyncio.Server:
    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
            status, content_type, body = answer(settings, head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):
            writer.close()
            return
        reason = HTTPStatus(status).phrase
        extra = "WWW-Authenticate: Bearer\r\n" if status == 401 else ""
        writer.write(f"HTTP/1.0 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                     f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
                     .encode() + body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(one, host, port, limit=MAX_HEAD)
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return server
