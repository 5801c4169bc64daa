"""In-app notifications: list, mark read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import FromRow
from prepskul.services import notifications

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class NotificationOut(FromRow):
    id: uuid.UUID
    session_id: uuid.UUID | None
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


@router.get("", response_model=list[NotificationOut])
async def list_notifications(db: DB, user: User, unread: bool = False,
                             limit: Annotated[int, Query(ge=1, le=200)] = 50
                             ) -> list[NotificationOut]:
    found = await notifications.for_user(db, user, unread=unread, limit=limit)
    return [NotificationOut.model_validate(n) for n in found]


@router.post("/{notification_id}/read")
async def read_one(notification_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User
                   ) -> dict[str, int]:
    return {"marked": await notifications.mark_read(db, rt, user, notification_id)}


@router.post("/read-all")
async def read_all(db: DB, rt: RuntimeDep, user: User) -> dict[str, int]:
    return {"marked": await notifications.mark_read(db, rt, user, None)}
