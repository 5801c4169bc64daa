from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base


class WeeklyWindow(Base):
    """Weekly hours on the tutor's wall clock, in minutes after local midnight."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("0 <= start_minute AND start_minute < end_minute "
                        "AND end_minute <= 1440", name="hours"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tutor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class AvailabilityException(Base):
    """A date that differs from the week: a day off, hours off, or extra hours."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        CheckConstraint("(start_minute IS NULL AND end_minute IS NULL AND NOT available) OR "
                        "(0 <= start_minute AND start_minute < end_minute "
                        "AND end_minute <= 1440)", name="hours"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tutor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[date] = mapped_column(Date)
    available: Mapped[bool] = mapped_column(Boolean)
    start_minute: Mapped[int | None] = mapped_column(SmallInteger)
    end_minute: Mapped[int | None] = mapped_column(SmallInteger)
