from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.lifecycle import MeetState, RecordingState, Status
from prepskul.domain.pricing import Kind


class TutoringSession(Base):
    """A session. Its time is held in `time_holds` (see `db.models.holds`): a trigger keeps
    one row there while the status holds the slot, with `hold_expires_at` as its expiry."""

    __tablename__ = "sessions"
    __table_args__ = (
        # A tentative hold always ends (domain.holds.hold_until): the database says so too.
        CheckConstraint(
            "status NOT IN ('requested','awaiting_payment') OR hold_expires_at IS NOT NULL",
            name="tentative_hold_expires"),
        Index("ix_sessions_student_starts", "student_id", "starts_at"),
        Index("ix_sessions_tutor_starts", "tutor_id", "starts_at"),
        # A plan's invoice books each of its lessons once, however often it is confirmed.
        Index("uq_sessions_invoice_lesson", "invoice_id", "starts_at", unique=True,
              postgresql_where=text("invoice_id IS NOT NULL")),
        # The few that need an operator, read by /metrics on every scrape and by the console.
        Index("ix_sessions_attention", "starts_at",
              postgresql_where=text("meet_state = 'failed' OR recording_state = 'missing'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    kind: Mapped[Kind] = mapped_column(enum_type(Kind, 16))
    tutor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    booked_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    subject: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    time_zone: Mapped[str] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(enum_type(Status, 24), index=True)
    price_xaf: Mapped[int] = mapped_column(Integer)
    # Until when an unpaid or unapproved session holds the tutor's time (None: for good).
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meet_state: Mapped[MeetState | None] = mapped_column(enum_type(MeetState, 16))
    meet_link: Mapped[str | None] = mapped_column(Text)
    calendar_event_id: Mapped[str | None] = mapped_column(Text)
    recording_state: Mapped[RecordingState | None] = mapped_column(
        enum_type(RecordingState, 16))
    note: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The cancellation policy and commission in force when it was booked (domain.policy):
    # a later change of the settings never rewrites what this booking promised.
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # A lesson of a plan, booked by paying the plan's invoice (domain.plans).
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
