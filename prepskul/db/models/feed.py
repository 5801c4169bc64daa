from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at


class ChangeEvent(Base):
    """The change feed's durable log: written in the transaction that made the change,
    announced with NOTIFY (delivered only on commit), replayed for `Last-Event-ID`."""

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(48))
    session_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    # Who may see it (profile ids); admins see everything.
    audience: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    at: Mapped[datetime] = created_at()
