"""The webhook inbox: store every delivery raw before acknowledging it, and enqueue its
processing in the same transaction, so an accepted delivery can never be lost and a resend
(same provider delivery key) never acts twice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul import metrics
from prepskul.db.models import InboxState, WebhookEvent
from prepskul.domain.text import storable, storable_str
from prepskul.runtime import Runtime

# Only these headers are kept: never a secret, a token or a cookie.
KEPT_HEADERS = frozenset({
    "content-type", "content-length", "user-agent", "x-request-id", "x-forwarded-for",
    "webhook-id", "webhook-timestamp",
})


@dataclass(frozen=True)
class Delivery:
    """One webhook request as it arrived."""

    provider: str
    headers: Mapping[str, str]
    body: bytes
    source_ip: str | None


def sanitize(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): storable_str(v[:500]) for k, v in headers.items()
            if k.lower() in KEPT_HEADERS}


def storable_key(delivery_key: str) -> str:
    """A delivery key made of what the provider sent (a status, a `webhook-id`), as
    Postgres can store it: a verified delivery is never lost for a NUL in it."""
    return storable_str(delivery_key[:500])


async def reject(
    db: AsyncSession, delivery: Delivery, *, reason: str, delivery_key: str = "-"
) -> None:
    """Keep a refused delivery as evidence for operators; it is never processed."""
    db.add(WebhookEvent(provider=delivery.provider, delivery_key=storable_key(delivery_key),
                        headers=sanitize(delivery.headers), body=delivery.body[:65536],
                        source_ip=delivery.source_ip, verified=False, rejection=reason,
                        state=InboxState.REJECTED))
    metrics.WEBHOOKS.labels(delivery.provider, "rejected").inc()


async def mark(
    db: AsyncSession, event_id: int, state: InboxState, *, now: datetime,
    error: str | None = None,
) -> None:
    """Record what processing did: processed | unreadable | failed (with the reason). An UPDATE,
    not a load: the row holds the whole body (a long transcript, for Fathom). How long a
    processed delivery took since it arrived is observed for operators (`/metrics`)."""
    row = (await db.execute(
        update(WebhookEvent).where(WebhookEvent.id == event_id)
        .values(state=state, error=error, processed_at=now, attempts=WebhookEvent.attempts + 1)
        .returning(WebhookEvent.provider, WebhookEvent.received_at))).first()
    if row is not None and state is InboxState.PROCESSED:
        provider, received_at = row
        metrics.WEBHOOK_PROCESSING.labels(provider).observe(
            max(0.0, (now - received_at).total_seconds()))


@dataclass(frozen=True)
class Stored:
    """A stored delivery as its processing reads it."""

    body: dict[str, Any]
    received_at: datetime


async def load(db: AsyncSession, event_id: int) -> Stored:
    """The stored delivery's JSON body and arrival. The raw bytes stay as they came
    (evidence); what is read from them is stripped of the characters Postgres cannot store
    in `text` or `jsonb` (NUL, lone surrogates), and the rest is kept."""
    event = await db.get(WebhookEvent, event_id)
    if event is None:
        raise LookupError(f"webhook event {event_id} is gone")
    body: dict[str, Any] = storable(json.loads(event.body))
    return Stored(body, event.received_at)


async def load_body(rt: Runtime, event_id: int) -> dict[str, Any]:
    """The stored delivery's JSON body (`load`), in a read of its own."""
    async with rt.sessions() as db:
        return (await load(db, event_id)).body
