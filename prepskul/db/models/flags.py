from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type
from prepskul.domain.flags import FlagStatus


class TranscriptFlag(Base):
    """A transcript line that looks like taking payment or contact off the platform. For
    operators only: no change event or notification ever carries it."""

    __tablename__ = "transcript_flags"
    __table_args__ = (UniqueConstraint("recording_id", "line_index", "rule"),)

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"), index=True)
    recording_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"))
    line_index: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str] = mapped_column(Text)
    speaker_email: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[str | None] = mapped_column(Text)
    status: Mapped[FlagStatus] = mapped_column(enum_type(FlagStatus, 16),
                                               default=FlagStatus.OPEN, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
