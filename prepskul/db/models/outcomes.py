from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.outcome import Mark, Outcome, Settlement, Side


class SessionJoin(Base):
    """One click on Join: who, which side, when. Every click is kept; the first counts."""

    __tablename__ = "session_joins"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    side: Mapped[Side] = mapped_column(enum_type(Side, 8))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LessonReport(Base):
    """The tutor's short report, once per session."""

    __tablename__ = "lesson_reports"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    tutor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    topic: Mapped[str] = mapped_column(Text)
    learner_present: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LessonOutcome(Base):
    """The decided outcome beside the session's status (which carries it too), the
    attendance marks, the confirmation window, and how it was settled. `settled_at` is set
    exactly once (a guarded UPDATE), so two racing confirmations settle once."""

    __tablename__ = "lesson_outcomes"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome, 24), index=True)
    tutor_mark: Mapped[Mark] = mapped_column(enum_type(Mark, 8))
    learner_mark: Mapped[Mark] = mapped_column(enum_type(Mark, 8))
    why: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    confirm_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    problem: Mapped[str | None] = mapped_column(Text)
    problem_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    problem_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_how: Mapped[Settlement | None] = mapped_column(enum_type(Settlement, 16))
    settled_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
