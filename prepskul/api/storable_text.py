"""Text PostgreSQL cannot store (`domain.text`) never reaches it from our API or pages.

A NUL or a lone surrogate typed into a booking note or a name used to surface as a 500
and a closed connection. One middleware refuses them for every route and page — a 422
with a code — so no handler has to remember to. Provider webhooks are not refused here: a verified
delivery is kept whatever it holds, and the inbox strips what cannot be stored
(`domain.text.storable`)."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prepskul.domain.text import is_storable

# Cheap screens on the raw bytes; only a body that trips one is parsed to be sure.
_NUL = re.compile(rb"\x00|\\u0000")
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})
MESSAGE = ("Text cannot contain the NUL character (\\u0000) or an unpaired surrogate; "
           "remove it and send again.")


def body_is_unstorable(body: bytes, content_type: str) -> bool:
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"%00" in body  # forms spell NUL so; other bad escapes decode to U+FFFD
    if not (_NUL.search(body) or _SURROGATE.search(body)):
        return False
    try:  # an escape inside a string, or only text that looks like one ("\\u0000")?
        return not is_storable(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON at all: the route's own parsing refuses it


def query_is_unstorable(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return b"%00" in query or b"\x00" in query or "\x00" in scope["path"]


class RefuseUnstorableText:
    def __init__(self, app: ASGIApp, *, exempt: tuple[str, ...]) -> None:
        self.app, self.exempt = app, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if query_is_unstorable(scope):
            await _refuse(send)
            return
        if scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        # The body is already bounded by `BodyLimit`, which wraps this middleware.
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(b"", message, receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = dict(scope["headers"])
        if body_is_unstorable(body, headers.get(b"content-type", b"").decode("latin-1").lower()):
            await _refuse(send)
            return
        await self.app(scope, _replay(body, None, receive), send)


def _replay(body: bytes, first: Message | None, receive: Receive) -> Receive:
    """A `receive` that hands the buffered body over once, then the real channel's messages
    (a disconnect, for a streaming answer)."""
    pending: Message | None = first or {"type": "http.request", "body": body,
                                        "more_body": False}

    async def replay() -> Message:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay


async def _refuse(send: Send) -> None:
    body = json.dumps({"code": "unstorable_text", "message": MESSAGE}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
