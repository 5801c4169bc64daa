"""Wire shapes of our public API (Pydantic at the edge, plain objects inside)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from prepskul.db.models import Payment, TutoringSession
from prepskul.domain.pricing import Kind


class FromRow(BaseModel):
    """An answer read straight off a database row's attributes."""

    model_config = ConfigDict(from_attributes=True)


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tutor_id: uuid.UUID
    subject: str = Field(min_length=1, max_length=80)
    starts_at: AwareDatetime = Field(
        description="ISO 8601 with an offset, e.g. 2026-03-02T10:00:00+01:00"
    )
    minutes: int = Field(ge=1, le=24 * 60)
    kind: Kind = Kind.REGULAR
    student_id: uuid.UUID | None = Field(None, description="required when a parent books")
    time_zone: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=2000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=1000)


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: AwareDatetime
    minutes: int | None = Field(None, ge=1, le=24 * 60)


class PaymentOut(FromRow):
    trans_id: str
    method: str
    status: str
    amount_xaf: int
    link: str | None
    flag: str | None

class SessionOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: str
    tutor_id: uuid.UUID
    student_id: uuid.UUID
    booked_by_id: uuid.UUID
    subject: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    starts_at_local: str = Field(description="the start in the session's time zone")
    price_xaf: int
    currency: Literal["XAF"] = "XAF"
    hold_expires_at: datetime | None = Field(
        description="until when an unpaid or unapproved session holds the tutor's time;"
        " null once paid")
    meet_state: str | None
    meet_link: str | None
    recording_state: str | None
    payment: PaymentOut | None = None
    note: str | None
    decline_reason: str | None
    cancel_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, s: TutoringSession, payment: Payment | None = None) -> SessionOut:
        local = s.starts_at.astimezone(ZoneInfo(s.time_zone)).isoformat()
        return cls(
            id=s.id, kind=s.kind, status=s.status, tutor_id=s.tutor_id, student_id=s.student_id,
            booked_by_id=s.booked_by_id, subject=s.subject, starts_at=s.starts_at,
            ends_at=s.ends_at, time_zone=s.time_zone, starts_at_local=local,
            price_xaf=s.price_xaf, hold_expires_at=s.hold_expires_at,
            meet_state=s.meet_state, meet_link=s.meet_link,
            recording_state=s.recording_state, note=s.note,
            payment=PaymentOut.model_validate(payment) if payment else None,
            decline_reason=s.decline_reason, cancel_reason=s.cancel_reason,
            created_at=s.created_at,
        )


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


class ProfileOut(FromRow):
    id: uuid.UUID
    role: str
    full_name: str
    email: str | None
    phone: str | None
    time_zone: str
    language: str
    notify_email: bool
    notify_push: bool

class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=32)
    time_zone: str | None = Field(None, max_length=64)
    language: Literal["fr", "en"] | None = None
    notify_email: bool | None = None
    notify_push: bool | None = None
    push_token: str | None = Field(None, max_length=4096)
