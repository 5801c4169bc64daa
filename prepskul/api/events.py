"""`GET /api/events`: Server-Sent Events of the changes the caller may see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from prepskul.api.deps import RuntimeDep, User
from prepskul.domain.errors import InvalidInput
from prepskul.services import live

router = APIRouter(prefix="/api", tags=["live"])
HEARTBEAT_SECONDS = 15


@router.get("/events", response_class=EventSourceResponse)
async def events(
    request: Request, rt: RuntimeDep, user: User,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[str | None, Query(alias="last_event_id")] = None,
) -> EventSourceResponse:
    """A stream of `{type, session_id, status, …, at}` events, each with its id. Reconnect
    with `Last-Event-ID` to receive what happened meanwhile — or, for a page's first
    connection (EventSource cannot send headers), `?last_event_id=` with the id the page was
    rendered at. Comments every 15 s keep proxies from closing an idle stream."""
    hub: live.Hub = request.app.state.hub
    after_id = _resume_point(last_event_id or after)

    async def stream() -> AsyncIterator[Any]:
        # Subscribed only once the stream runs: a request refused above, or a client gone
        # before its answer started, never counts (a generator never started never cleans
        # up). Before the replay, so nothing falls in between.
        subscriber = hub.subscribe(user)
        try:
            replayed: set[int] = set()
            if after_id is not None:
                oldest = await live.oldest_kept(rt)
                if oldest is not None and oldest > after_id + 1:
                    # The log no longer reaches back that far: tell the client to refetch.
                    yield ServerSentEvent(data="{}", event="reset")
                for event in await live.replay(rt, user, after_id):
                    replayed.add(event.id)
                    yield event.frame
            while True:
                live_event = await subscriber.queue.get()
                if live_event is None:
                    return  # dropped as too slow: the client reconnects and catches up
                if live_event.id not in replayed:
                    yield live_event.frame
        finally:
            hub.unsubscribe(subscriber)

    return EventSourceResponse(stream(), ping=HEARTBEAT_SECONDS)


def _resume_point(value: str | None) -> int | None:
    """The event id to resume after; a value that is not one is refused, not guessed."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InvalidInput("invalid_last_event_id",
                           "Last-Event-ID must be the id of an event this stream sent.")
    return int(value)
