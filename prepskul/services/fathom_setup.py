"""Registering our webhook with Fathom (`prepskul fathom webhook register|list|delete`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from prepskul.db.models import FathomWebhook
from prepskul.runtime import Runtime

INCLUDE_KEYS = ("include_transcript", "include_summary", "include_action_items")


def our_webhook_url(rt: Runtime) -> str:
    return f"{rt.settings.public_base_url.rstrip('/')}/api/webhooks/fathom"


async def register(rt: Runtime, url: str | None = None) -> dict[str, Any]:
    """Create a webhook with every include_* we use on; returns Fathom's answer, whose
    `secret` must go into FATHOM_WEBHOOK_SECRET (it is shown only this once)."""
    created = await rt.fathom.create_webhook(url or our_webhook_url(rt))
    async with rt.sessions.begin() as db:
        await db.execute(insert(FathomWebhook).values(
            id=str(created["id"]), url=str(created.get("url") or url),
            includes={k: bool(created.get(k)) for k in INCLUDE_KEYS},
        ).on_conflict_do_nothing(index_elements=["id"]))
    return created


async def registered(rt: Runtime) -> list[FathomWebhook]:
    async with rt.sessions() as db:
        return list((await db.scalars(select(FathomWebhook)
                                      .order_by(FathomWebhook.created_at))).all())


async def delete(rt: Runtime, webhook_id: str) -> bool:
    """Delete at Fathom (already gone counts as done) and forget it. False if unknown here."""
    await rt.fathom.delete_webhook(webhook_id)
    async with rt.sessions.begin() as db:
        row = await db.get(FathomWebhook, webhook_id)
        if row is None:
            return False
        await db.delete(row)
        return True
