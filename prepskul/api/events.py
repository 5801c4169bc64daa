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
MAX_EVENT_ID = 2**63 - 1  # event ids are Postgres bigints


def resume_from(value: str | None) -> int | None:
    """The event id a client resumes after; a value that cannot be one is refused (it
    used to reach the database as an out-of-range bigint)."""
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_EVENT_ID:
        raise InvalidInput("invalid_last_event_id",
                           "Last-Event-ID must be the id of an event this stream sent.")
    return int(value)


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
    after_id = resume_from(last_event_id or after)  # refused before anything is held
    hub: live.Hub = request.app.state.hub
    subscriber = hub.subscribe(user)  # before the replay, so nothing falls in between

    async def stream() -> AsyncIterator[Any]:
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
