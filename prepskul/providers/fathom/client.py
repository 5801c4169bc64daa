"""Fathom's external API: meetings (paged), a recording's summary and transcript, webhooks.

The official `fathom-python` SDK is synchronous; a few httpx calls against a configurable
base URL serve an async service better and point at the fake without tricks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from prepskul.providers.errors import RetryableProviderError
from prepskul.providers.fathom.models import (
    ActionItem,
    TranscriptLine,
    ValidationError,
    parse_action_items,
    parse_summary,
    parse_transcript,
    readable,
)
from prepskul.providers.transport import call, json_body, json_message

PROVIDER = "fathom"
T = TypeVar("T")


def _message(response: httpx.Response) -> str:
    return json_message(response, "message", "error", "detail")


def _shaped(operation: str, parse: Callable[[Any], T], value: Any) -> T:
    """A well-formed answer of a shape we cannot read is retryable, like a garbled one."""
    try:
        return parse(value)
    except ValidationError as exc:
        raise RetryableProviderError(PROVIDER, f"{operation}: {readable(exc)}") from None


class FathomClient:
    def __init__(self, http: httpx.AsyncClient, *, base_url: str, api_key: str) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"X-Api-Key": api_key}

    async def _get(self, operation: str, path: str, **params: Any) -> dict[str, Any]:
        response = await call(
            self._http, PROVIDER, operation, "GET", f"{self.base_url}{path}",
            headers=self._headers, params=params or None, error_message=_message,
        )
        body: dict[str, Any] = json_body(PROVIDER, operation, response)
        return body

    async def meetings(self, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params = {**filters, **({"cursor": cursor} if cursor else {})}
            page = await self._get("meetings", "/meetings", **params)
            for item in page.get("items") or []:
                yield item
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def summary(self, recording_id: int) -> str | None:
        """The summary's markdown."""
        body = await self._get("summary", f"/recordings/{recording_id}/summary")
        return _shaped("summary", parse_summary, body.get("summary"))

    async def transcript(self, recording_id: int) -> list[TranscriptLine]:
        body = await self._get("transcript", f"/recordings/{recording_id}/transcript")
        return _shaped("transcript", parse_transcript, body.get("transcript"))

    async def action_items(
        self, recording_id: int, created_at: datetime | None
    ) -> list[ActionItem]:
        """Fathom has no per-recording action-items endpoint: find the meeting in the
        (paged) list, asked from just before it was created."""
        filters: dict[str, Any] = {"include_action_items": "true"}
        if created_at is not None:
            since = (created_at - timedelta(minutes=5)).astimezone(UTC)
            filters["created_after"] = since.isoformat(timespec="seconds").replace("+00:00", "Z")
        async for meeting in self.meetings(**filters):
            if meeting.get("recording_id") == recording_id:
                return _shaped("meetings", parse_action_items, meeting.get("action_items"))
        return []

    async def create_webhook(self, destination_url: str) -> dict[str, Any]:
        body = {
            "destination_url": destination_url,
            "triggered_for": ["my_recordings", "shared_external_recordings"],
            "include_transcript": True, "include_summary": True,
            "include_action_items": True, "include_crm_matches": False,
        }
        response = await call(
            self._http, PROVIDER, "webhooks.create", "POST", f"{self.base_url}/webhooks",
            headers=self._headers, json=body, error_message=_message, attempts=1,
        )
        created: dict[str, Any] = json_body(PROVIDER, "webhooks.create", response)
        return created

    async def delete_webhook(self, webhook_id: str) -> None:
        await call(
            self._http, PROVIDER, "webhooks.delete", "DELETE",
            f"{self.base_url}/webhooks/{webhook_id}", headers=self._headers,
            error_message=_message, ok=(204, 404),
        )
