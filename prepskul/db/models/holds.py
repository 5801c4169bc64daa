"""Held tutor time, and the state of rate limits.

`time_holds` is the one table every claim on a tutor's time writes a row into, and its
exclusion constraint is the last guard against double booking: whatever races the API loses,
two rows of one tutor never overlap. A session holds a row while its status holds the slot
(`domain.lifecycle.HOLDS_SLOT`); a pending move proposal holds the proposed slot in a row
of purpose `move` (its `session_id` the session's), and a plan's future lessons are rows
of purpose `plan` (its `plan_id` set, no session), so all of them exclude each other with
no cross-table check (a constraint cannot span tables). Rows of one session never exclude
each other: a lesson moved by half an hour overlaps its own old slot until the move is
accepted. A tentative row carries `expires_at`; a firm one (paid) has none.

Why the session's row is kept by a trigger (migration 0004, `session_holds_time`) rather
than by the services: the row must follow the session through every status change, and
those happen in many places (booking, approval, payment, cancellation, expiry, and whatever
comes next). Derived by the database from the session row, it cannot be forgotten by a new
code path, and the constraint answers inside the same statement as the change — the
`slot_taken` refusal still comes from the session's INSERT or UPDATE.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text, func, literal_column, text
from sqlalchemy.dialects.postgresql import UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type
from prepskul.domain.holds import HoldPurpose


class TimeHold(Base):
    __tablename__ = "time_holds"
    __table_args__ = (
        ExcludeConstraint(
            ("tutor_id", "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at")), "&&"),
            (func.coalesce(literal_column("session_id"), literal_column("id")), "<>"),
            name="no_tutor_overlap",
            using="gist",
        ),
        # One row per session for its own slot, and at most one for a proposed move.
        Index("uq_time_holds_session", "session_id", unique=True,
              postgresql_where=text("purpose = 'session'")),
        Index("uq_time_holds_move", "session_id", unique=True,
              postgresql_where=text("purpose = 'move'")),
        # A plan reserves each of its lessons once.
        Index("uq_time_holds_plan", "plan_id", "starts_at", unique=True,
              postgresql_where=text("purpose = 'plan'")),
        # The sweep looks for tentative holds whose time is up.
        Index("ix_time_holds_expires_at", "expires_at",
              postgresql_where=text("expires_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    tutor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    purpose: Mapped[HoldPurpose] = mapped_column(enum_type(HoldPurpose, 16))
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"))
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class RateLimit(Base):
    """One row per limited key: its GCRA state (`domain.throttle`), shared by every process."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    tat: Mapped[datetime] = mapped_column(DateTime(timezone=True))
