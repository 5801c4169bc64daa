"""Wire shapes of tutor profiles, availability and slots."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from prepskul.domain.availability import (
    Availability,
    DateException,
    Window,
    format_clock,
    parse_clock,
)
from prepskul.domain.tutors import Level, TutorStatus

CLOCK = r"^\d{2}:\d{2}$"
CLOCK_HELP = "HH:MM on the tutor's clock; 24:00 ends a day"


class TutorProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subjects: list[str] | None = Field(None, max_length=20)
    levels: list[Level] | None = None
    hourly_rate_xaf: StrictInt | None = Field(None, le=10**9,
                                              description="whole XAF per hour, 1,000–100,000")
    bio: str | None = Field(None, max_length=4000)
    teaching_languages: list[str] | None = Field(None, max_length=10)
    time_zone: str | None = Field(None, max_length=64)
    requires_approval: StrictBool | None = None


class TutorOut(BaseModel):
    """What students see of a tutor."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    full_name: str
    subjects: list[str]
    levels: list[str]
    hourly_rate_xaf: int | None
    bio: str
    teaching_languages: list[str]
    trial_prices_xaf: dict[int, int] = {}
    requires_approval: bool
    time_zone: str
    rating_average: float | None = Field(
        None, description="1–5 from learners' reviews, shown from three visible reviews")
    rating_count: int | None = None


class TutorPage(BaseModel):
    items: list[TutorOut]
    next_cursor: str | None


class OwnTutorProfileOut(TutorOut):
    """The tutor's own view (and the operators'): where their approval stands."""

    status: TutorStatus = Field(validation_alias="tutor_status")
    status_reason: str | None = Field(validation_alias="tutor_status_reason")
    missing: list[str] = Field([], description="what an operator needs before approving")


class WindowIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: StrictInt = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=CLOCK, description=CLOCK_HELP)
    end: str = Field(pattern=CLOCK, description=CLOCK_HELP)

    def domain(self) -> Window:
        return Window(self.weekday, parse_clock(self.start), parse_clock(self.end))


class ExceptionIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    available: StrictBool = Field(description="false: a day (or hours) off; true: extra hours")
    start: str | None = Field(None, pattern=CLOCK, description=CLOCK_HELP)
    end: str | None = Field(None, pattern=CLOCK, description=CLOCK_HELP)

    def domain(self) -> DateException:
        return DateException(self.date, self.available,
                             parse_clock(self.start) if self.start else None,
                             parse_clock(self.end) if self.end else None)


class AvailabilityIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: str | None = Field(None, max_length=64,
                                  description="the zone the hours are in; default: the tutor's")
    weekly: list[WindowIO] = Field(max_length=100)
    exceptions: list[ExceptionIO] = Field([], max_length=500)
    buffer_minutes: StrictInt | None = Field(None, le=100_000,
                                             description="between sessions; null: the default")
    min_notice_minutes: StrictInt | None = Field(None, le=1_000_000)
    horizon_days: StrictInt | None = Field(None, le=100_000)

    @classmethod
    def of(cls, av: Availability, buffer: int | None, notice: int | None,
           horizon: int | None) -> AvailabilityIO:
        return cls(
            time_zone=av.time_zone,
            weekly=[WindowIO(weekday=w.weekday, start=format_clock(w.start),
                             end=format_clock(w.end)) for w in av.weekly],
            exceptions=[ExceptionIO(
                date=x.on, available=x.available,
                start=format_clock(x.start) if x.start is not None else None,
                end=format_clock(x.end) if x.end is not None else None) for x in av.exceptions],
            buffer_minutes=buffer, min_notice_minutes=notice, horizon_days=horizon)


class SlotsOut(BaseModel):
    tutor_id: uuid.UUID
    time_zone: str = Field(description="the zone the start times are given in (the viewer's)")
    minutes: int
    slots: list[datetime] = Field(description="bookable start times, with the viewer's offset")
