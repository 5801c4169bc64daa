from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ColumnElement, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.people import DEFAULT_TIME_ZONE, Language, Role
from prepskul.domain.tutors import Level, TutorStatus


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
    # Learner fields. A child a parent added has no account: `managed_by_id` names that
    # parent. When the child later accepts an invitation with an account of their own, the
    # learner's history moves to the account and `merged_into_id` points there.
    level: Mapped[Level | None] = mapped_column(enum_type(Level, 24))
    school: Mapped[str | None] = mapped_column(Text)
    managed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="SET NULL"))
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    # Availability settings; None means the service's default.
    buffer_minutes: Mapped[int | None] = mapped_column(Integer)
    min_notice_minutes: Mapped[int | None] = mapped_column(Integer)
    horizon_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ParentLink(Base):
    """A parent may book for the children linked to them. Unlinking ends the link
    (`ended_at`) and keeps the row: sessions, notes and payments stay as they were; a link
    is in force only while `ended_at` is null (`ParentLink.active()`)."""

    __tablename__ = "parent_links"

    parent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = created_at()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def active(cls) -> ColumnElement[bool]:
        return cls.ended_at.is_(None)


class Invitation(Base):
    """A short-lived, single-use code a parent gives a child to link the child's own account
    (to a learner the parent added, or as a new child). Only the code's digest is kept."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
