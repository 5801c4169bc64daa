"""`GET /api/events`: Server-Sent Events of the changes the caller may see.

Thousands of streams stay open at once, so a stream is served as bare ASGI by `LiveStreams`,
a middleware under the ones that guard every request (request id, security headers, body
and text limits) and above FastAPI's routing: a stream held inside the route kept ~190
objects alive (30 coroutines of nested handlers, the request, the ORM profile), and the
garbage collector's full passes over 5,000 of them stalled every stream for seconds. Only
an admitted caller is streamed there; anything else (no or bad token, a bad
`Last-Event-ID`, a database error) goes on to the route below, which answers as every route
does. Each write begins with a `:t <server's Unix time>` comment (ignored by EventSource),
so a client can tell the server's delay from its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from prepskul.api.auth import AuthError, TokenVerifier
from prepskul.api.deps import SESSION_COOKIE, RuntimeDep, User
from prepskul.db.models import Profile
from prepskul.domain.errors import DomainError, InvalidInput
from prepskul.runtime import Runtime
from prepskul.services import live
from prepskul.services.people import profile_for

router = APIRouter(prefix="/api", tags=["live"])
PATH = "/api/events"
SERVER_SEND = "prepskul.server_send"
# Sent before a replay when the log no longer reaches back to the client's `Last-Event-ID`.
RESET = live.sse_frame("{}", event="reset")
HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"),
           (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]


@router.get("/events", response_class=Response,
            responses={200: {"content": {"text/event-stream": {}}}})
async def events(
    request: Request, rt: RuntimeDep, user: User,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[str | None, Query(alias="last_event_id")] = None,
) -> Response:
    """A stream of `{type, session_id, status, …, at}` events, each with its id. Reconnect
    with `Last-Event-ID` to receive what happened meanwhile — or, for a page's first
    connection (EventSource cannot send headers), `?last_event_id=` with the id the page was
    rendered at. Comments every 15 s keep proxies from closing an idle stream."""
    return LiveStream(request.app.state.hub, rt, user, _resume_point(last_event_id or after))


class LiveStream(Response):
    """The stream, as the route answers it (when `LiveStreams` did not take the request)."""

    def __init__(self, hub: live.Hub, rt: Runtime, user: Profile, after_id: int | None) -> None:
        super().__init__(media_type="text/event-stream")
        self.hub, self.rt, self.user, self.after_id = hub, rt, user, after_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        opened = await _open(self.hub, self.rt, self.user, self.after_id)
        await _stream(self.hub, *opened, scope, receive, send)


class LiveStreams:
    """Serves an admitted caller's `GET /api/events` without FastAPI's routing (see above);
    passes every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        try:
            opened = await _admit(scope, state.runtime, state.hub, state.verifier)
        except (AuthError, DomainError, SQLAlchemyError, OSError):
            opened = None
        if opened is None:
            await self.app(scope, receive, send)  # the route answers: 401, 422, 503 …
            return
        await _stream(state.hub, *opened, scope, receive, send)


async def _admit(scope: Scope, rt: Runtime, hub: live.Hub,
                 verifier: TokenVerifier) -> tuple[live.Subscriber, bytes] | None:
    """The caller's stream, opened, if they are who they say (else None or an error: the
    route then answers, as for any request)."""
    headers = dict(scope["headers"])
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(
            SESSION_COOKIE, "")
    if not token:
        return None
    last_seen = headers.get(b"last-event-id", b"").decode("latin-1") or None
    if last_seen is None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        last_seen = (query.get("last_event_id") or [None])[0]
    after_id = _resume_point(last_seen)
    identity = await verifier.verify(token)
    async with rt.sessions.begin() as db:  # a first sight creates the profile
        user = await profile_for(db, identity)
    return await _open(hub, rt, user, after_id)


class KeepServerSend:
    """Outermost middleware: keeps the server's own `send` in the scope, so that a stream
    writes its body without passing each write through every middleware — they all act on
    an answer's head alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


async def _open(hub: live.Hub, rt: Runtime, user: Profile,
                after_id: int | None) -> tuple[live.Subscriber, bytes]:
    """Subscribe, then replay what the client missed since its `Last-Event-ID` (a reset
    first, if the log no longer reaches back that far: the client refetches). Subscribed
    before the replay, so nothing falls in between; an event replayed is not sent again
    live. The profile is not kept: a stream holds two of its fields."""
    sub = hub.subscribe(user)
    if after_id is None:
        return sub, b""
    try:
        oldest = await live.oldest_kept(rt)
        missed = await live.replay(rt, user, after_id)
    except BaseException:
        hub.unsubscribe(sub)
        raise
    sub.skip = frozenset(e.id for e in missed)
    reset = RESET if oldest is not None and oldest > after_id + 1 else b""
    return sub, reset + b"".join(e.frame for e in missed)


async def _stream(hub: live.Hub, sub: live.Subscriber, missed: bytes, scope: Scope,
                  receive: Receive, send: Send) -> None:
    """Write the stream until the client goes or the hub drops it. The head goes through
    every middleware (they add headers); the body straight to the server."""
    direct: Send = scope.get(SERVER_SEND, send)
    gone = asyncio.ensure_future(_disconnected(receive))
    gone.add_done_callback(lambda _: sub.close())

    def sink(body: bytes) -> Awaitable[None]:
        """A write, beginning with the server's clock at the moment it leaves."""
        return direct({"type": "http.response.body", "more_body": True,
                       "body": b":t %.6f\n%s" % (time.time(), body)})

    try:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await sub.serve(sink, missed or b"\n")  # the head goes out now, not with an event
        if not gone.done():  # dropped: end the answer; the client reconnects
            await direct({"type": "http.response.body", "body": b""})
    except OSError:
        pass  # the client went away mid-write
    finally:
        hub.unsubscribe(sub)
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await gone


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _resume_point(value: str | None) -> int | None:
    """The event id to resume after; a value that is not one is refused, not guessed."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InvalidInput("invalid_last_event_id",
                           "Last-Event-ID must be the id of an event this stream sent.")
    return int(value)
