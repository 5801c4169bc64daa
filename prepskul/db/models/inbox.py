from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type


class InboxState(StrEnum):
    """Where a stored delivery stands."""

    RECEIVED = "received"  # stored, its processing job queued
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"  # processing raised; its job retries, or an operator replays it
    REJECTED = "rejected"  # refused at the door (signature, shape): evidence only
    UNREADABLE = "unreadable"  # verified, of a shape we cannot read: kept for an operator


class WebhookEvent(Base):
    """The inbox: every delivery, raw, before it is acknowledged. The source of truth for
    processing, replay and the operator console."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        # A resend of a verified delivery is a no-op; rejected ones are all kept as evidence.
        Index(
            "uq_webhook_events_delivery",
            "provider",
            "delivery_key",
            unique=True,
            postgresql_where=text("verified"),
        ),
        Index("ix_webhook_events_received", "provider", "received_at"),
        Index("ix_webhook_events_provider_state", "provider", "state"),  # /metrics counts
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    delivery_key: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at()
    headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    source_ip: Mapped[str | None] = mapped_column(String(64))
    verified: Mapped[bool] = mapped_column(Boolean)
    rejection: Mapped[str | None] = mapped_column(Text)
    state: Mapped[InboxState] = mapped_column(enum_type(InboxState, 16))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
