"""Calendar v3 events: insert (with a Meet request), get, patch, delete."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx

from prepskul.providers.errors import PermanentProviderError
from prepskul.providers.google_auth import TokenSource
from prepskul.providers.google_calendar.models import Conference, conference_of
from prepskul.providers.transport import call, json_body, json_message

PROVIDER = "google_calendar"
RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"})


def reason_of(response: httpx.Response) -> str | None:
    try:
        errors = response.json()["error"]["errors"]
        return str(errors[0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _message(response: httpx.Response) -> str:
    reason = reason_of(response)
    text = json_message(response, "error.message")
    return f"{text} [{reason}]" if reason else text


def _retryable(response: httpx.Response) -> bool:
    if response.status_code == 403:
        return reason_of(response) in RATE_LIMIT_REASONS
    return response.status_code in (429, 500, 502, 503, 504)


class CalendarClient:
    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, calendar_id: str, credentials: TokenSource
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.calendar_id = calendar_id
        self.credentials = credentials

    def _events(self, event_id: str | None = None) -> str:
        url = f"{self.base_url}/calendars/{quote(self.calendar_id, safe='')}/events"
        return f"{url}/{event_id}" if event_id else url

    async def _call(self, operation: str, method: str, url: str, **kw: Any) -> httpx.Response:
        for refreshed in (False, True):
            headers = {"Authorization": f"Bearer {await self.credentials.token()}"}
            try:
                return await call(
                    self._http, PROVIDER, operation, method, url, headers=headers,
                    error_message=_message, is_retryable=_retryable, **kw,
                )
            except PermanentProviderError as exc:
                if exc.status != 401 or refreshed:
                    raise
                self.credentials.invalidate()  # expired token: refresh once, then retry
        raise AssertionError("unreachable")

    async def insert_event(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create the event; if its id exists already (a retried job), return that one."""
        response = await self._call(
            "events.insert", "POST", self._events(),
            params={"conferenceDataVersion": 1, "sendUpdates": "all"}, json=body,
            ok=(200, 409),
        )
        if response.status_code == 409:
            return await self.get_event(body["id"])
        event: dict[str, Any] = json_body(PROVIDER, "events", response)
        return event

    async def get_event(self, event_id: str) -> dict[str, Any]:
        response = await self._call("events.get", "GET", self._events(event_id))
        event: dict[str, Any] = json_body(PROVIDER, "events", response)
        return event

    async def await_conference(
        self, event: dict[str, Any], *, base_delay: float, reads: int = 5
    ) -> tuple[dict[str, Any], Conference]:
        """Re-read an event while its Meet conference is `pending`: at once (the insert's
        round trip already gave Google time, and it usually has the link by then), then
        after base × 1, 2, 4, … — at most `reads` times. Returns the last event read."""
        conference = conference_of(event)
        for read in range(reads):
            if conference.state != "pending":
                break
            if read:
                await asyncio.sleep(base_delay * 2 ** (read - 1))
            event = await self.get_event(event["id"])
            conference = conference_of(event)
        return event, conference

    async def patch_event(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._call(
            "events.patch", "PATCH", self._events(event_id),
            params={"conferenceDataVersion": 1, "sendUpdates": "all"}, json=body,
        )
        event: dict[str, Any] = json_body(PROVIDER, "events", response)
        return event

    async def delete_event(self, event_id: str) -> None:
        """Cancel the event; already gone (410) or never made (404) count as done."""
        await self._call(
            "events.delete", "DELETE", self._events(event_id),
            params={"sendUpdates": "all"}, ok=(200, 204, 404, 410),
        )
