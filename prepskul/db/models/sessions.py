from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.lifecycle import HOLDS_SLOT, MeetState, RecordingState, Status
from prepskul.domain.pricing import Kind

# domain.lifecycle.HOLDS_SLOT spelt for SQL: sessions that hold the tutor's time. Two of
# them can never overlap, whatever races the API loses.
HOLDS_SLOT_SQL = "status IN ({})".format(
    ",".join(f"'{s.value}'" for s in sorted(HOLDS_SLOT, key=list(Status).index))
)


class TutoringSession(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        ExcludeConstraint(
            ("tutor_id", "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at")), "&&"),
            name="no_tutor_overlap",
            using="gist",
            where=text(HOLDS_SLOT_SQL),
        ),
        Index("ix_sessions_student_starts", "student_id", "starts_at"),
        Index("ix_sessions_tutor_starts", "tutor_id", "starts_at"),
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
    meet_state: Mapped[MeetState | None] = mapped_column(enum_type(MeetState, 16))
    meet_link: Mapped[str | None] = mapped_column(Text)
    calendar_event_id: Mapped[str | None] = mapped_column(Text)
    recording_state: Mapped[RecordingState | None] = mapped_column(
        enum_type(RecordingState, 16))
    note: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
