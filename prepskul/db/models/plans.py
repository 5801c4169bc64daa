"""Plans and their invoices (`domain.plans`). A plan's future lessons are reserved in
`time_holds` (purpose `plan`, `plan_id` set, no session) while it is approved or active; an
invoice records the lessons it pays for, so paying it books exactly those, whatever changed
in the plan since."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.plans import Frequency, InvoiceStatus, PlanStatus


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_live", "status",
              postgresql_where=text("status IN ('approved','active','paused')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    tutor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"), index=True)
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"), index=True)
    subject: Mapped[str] = mapped_column(Text)
    # [{weekday, start, minutes}] on the tutor's wall clock, in `tutor_zone`.
    slots: Mapped[list[dict[str, int]]] = mapped_column(JSONB)
    # A change of slots takes effect from billing period `next_slots_from`.
    next_slots: Mapped[list[dict[str, int]] | None] = mapped_column(JSONB)
    next_slots_from: Mapped[int | None] = mapped_column(Integer)
    tutor_zone: Mapped[str] = mapped_column(Text)
    payer_zone: Mapped[str] = mapped_column(Text)
    frequency: Mapped[Frequency] = mapped_column(enum_type(Frequency, 16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus, 16))
    # Its lessons are reserved in the tutor's calendar up to this date (tutor's zone) while
    # it is approved or active; the billing job extends it as the booking horizon moves.
    reserved_until: Mapped[date | None] = mapped_column(Date)
    unit_price_xaf: Mapped[int] = mapped_column(Integer)  # one lesson before discounts
    decline_reason: Mapped[str | None] = mapped_column(Text)
    pause_reason: Mapped[str | None] = mapped_column(Text)  # paused_by_payer | unpaid
    # The cancellation policy each of its sessions records (domain.policy).
    policy: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("plan_id", "period_index"),  # one invoice per period, ever
        Index("ix_invoices_unpaid_due", "due_at",
              postgresql_where=text("status IN ('open','overdue')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    period_index: Mapped[int] = mapped_column(Integer)
    period_first: Mapped[date] = mapped_column(Date)
    period_after: Mapped[date] = mapped_column(Date)
    # [[starts_at, ends_at], …] ISO 8601 UTC: the lessons this invoice pays for.
    lessons: Mapped[list[list[str]]] = mapped_column(JSONB)
    unit_price_xaf: Mapped[int] = mapped_column(Integer)
    frequency_discount_xaf: Mapped[int] = mapped_column(Integer)
    sibling_discount_xaf: Mapped[int] = mapped_column(Integer)
    lesson_price_xaf: Mapped[int] = mapped_column(Integer)
    total_xaf: Mapped[int] = mapped_column(Integer)
    status: Mapped[InvoiceStatus] = mapped_column(enum_type(InvoiceStatus, 16))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminders_sent: Mapped[list[str]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
