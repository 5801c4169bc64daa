"""Wire shapes of our public API (Pydantic at the edge, plain objects inside)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)
from pydantic.json_schema import SkipJsonSchema

from prepskul.db.models import Payment, TutoringSession
from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES
from prepskul.domain.pricing import Kind


def _iso_8601(value: object) -> object:
    """Only ISO 8601 text is an instant here; pydantic would also read "0.5" as a Unix time,
    which the document (format date-time) does not promise."""
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date and time with an offset")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]


def _iso_day(value: object) -> object:
    """A day is ISO 8601 text (YYYY-MM-DD); pydantic would also read `0` as a Unix time."""
    return date.fromisoformat(value) if isinstance(value, str) else value


Day = Annotated[date, BeforeValidator(_iso_day)]
# The product's IANA zone names, listed so a client can offer them (and knows no other).
TimeZoneName = Annotated[str, Field(max_length=64, json_schema_extra={
    "enum": sorted(available_timezones())})]


class FromRow(BaseModel):
    """An answer read straight off a database row's attributes."""

    model_config = ConfigDict(from_attributes=True)


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tutor_id: uuid.UUID
    subject: str = Field(min_length=1, max_length=80)
    starts_at: Instant = Field(
        description="ISO 8601 with an offset, e.g. 2026-03-02T10:00:00+01:00"
    )
    minutes: StrictInt = Field(ge=MIN_MINUTES, le=MAX_MINUTES)
    kind: Kind = Kind.REGULAR
    student_id: uuid.UUID | None = Field(None, description="required when a parent books")
    time_zone: TimeZoneName | None = None
    note: str | None = Field(None, max_length=2000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=1000)


class RequiredReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=1000, pattern=r"\S", description="why (not only spaces)")


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: Instant
    minutes: StrictInt | None = Field(None, ge=MIN_MINUTES, le=MAX_MINUTES)


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: Instant = Field(
        description="the proposed new start, ISO 8601 with an offset")
    minutes: StrictInt | None = Field(None, ge=MIN_MINUTES, le=MAX_MINUTES,
                                      description="if given, must be the session's length")


class ProposalOut(FromRow):
    id: uuid.UUID
    session_id: uuid.UUID
    proposed_by_id: uuid.UUID
    proposer_side: str = Field(description="tutor or learner; the other side answers")
    starts_at: datetime
    ends_at: datetime
    state: str = Field(description="pending, accepted, declined or expired")
    expires_at: datetime = Field(description="unanswered by then, it expires")
    answered_by_id: uuid.UUID | None
    answered_at: datetime | None
    created_at: datetime


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

    # Absent leaves a field as it is; only phone and push_token may be cleared with null.
    full_name: Annotated[str, Field(max_length=120, pattern=r"\S")] | SkipJsonSchema[None] = None
    phone: str | None = Field(None, max_length=32)
    time_zone: TimeZoneName | SkipJsonSchema[None] = None
    language: Literal["fr", "en"] | SkipJsonSchema[None] = None
    notify_email: StrictBool | SkipJsonSchema[None] = None
    notify_push: StrictBool | SkipJsonSchema[None] = None
    push_token: str | None = Field(None, max_length=4096)
