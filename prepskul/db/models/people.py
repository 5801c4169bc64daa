from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.people import DEFAULT_TIME_ZONE, Language, Role
from prepskul.domain.tutors import TutorStatus


class Profile(Base):
    """A person, keyed by their Supabase Auth `sub`. Tutors also carry rates and subjects."""

    __tablename__ = "profiles"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, 16))
    full_name: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    time_zone: Mapped[str] = mapped_column(Text, default=DEFAULT_TIME_ZONE)
    language: Mapped[Language] = mapped_column(enum_type(Language, 2), default=Language.FR)
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_push: Mapped[bool] = mapped_column(Boolean, default=True)
    push_token: Mapped[str | None] = mapped_column(Text)
    # Tutor-only fields.
    subjects: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    hourly_rate_xaf: Mapped[int | None] = mapped_column(Integer)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    levels: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    bio: Mapped[str] = mapped_column(Text, default="", server_default="")
    teaching_languages: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default="{}")
    tutor_status: Mapped[TutorStatus] = mapped_column(
        enum_type(TutorStatus, 16),
        default=TutorStatus.PENDING, server_default=TutorStatus.PENDING.value)
    tutor_status_reason: Mapped[str | None] = mapped_column(Text)
    # Availability settings; None means the service's default.
    buffer_minutes: Mapped[int | None] = mapped_column(Integer)
    min_notice_minutes: Mapped[int | None] = mapped_column(Integer)
    horizon_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ParentLink(Base):
    """A parent may book for the children linked to them."""

    __tablename__ = "parent_links"

    parent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
