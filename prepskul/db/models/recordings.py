from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at


class Recording(Base):
    """Fathom's notes for one meeting. Unmatched ones are kept (session_id NULL) for an
    operator to assign, never dropped."""

    __tablename__ = "recordings"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    fathom_recording_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    # meeting_url | invitees | manual | unmatched | ambiguous
    match: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list[str]] = mapped_column(JSONB, default=list)
    title: Mapped[str | None] = mapped_column(Text)
    meeting_url: Mapped[str | None] = mapped_column(Text)
    share_url: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    scheduled_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recording_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recording_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary_markdown: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    invitees: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    attendance: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at()


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    recording_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    assignee_name: Mapped[str | None] = mapped_column(Text)
    assignee_email: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[str | None] = mapped_column(Text)
    playback_url: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
