"""Tutors: the bookable list, a profile, free slots; a tutor's own profile and hours; an
operator's approval and suspension."""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from prepskul.api.deps import DB, Admin, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.api.schemas import Instant, RequiredReasonIn
from prepskul.api.tutor_schemas import (
    AvailabilityIO,
    OwnTutorProfileOut,
    SlotsOut,
    TutorOut,
    TutorPage,
    TutorProfileIn,
)
from prepskul.db.models import Profile
from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES
from prepskul.domain.errors import NotFound
from prepskul.domain.people import Role, check_time_zone
from prepskul.domain.tutors import MAX_RATE_XAF, TutorStatus, missing_for_approval
from prepskul.runtime import Runtime
from prepskul.services import availability, reviews, tutors
from prepskul.services.booking import trial_prices
from prepskul.services.people import get_tutor

router = APIRouter(prefix="/api", tags=["tutors"])


def public(rt: Runtime, tutor: Profile,
           ratings: dict[uuid.UUID, tuple[float, int]] | None = None) -> TutorOut:
    out = TutorOut.model_validate(tutor)
    out.trial_prices_xaf = trial_prices(rt).by_minutes
    if ratings and tutor.id in ratings:
        out.rating_average, out.rating_count = ratings[tutor.id]
    return out


async def own(db: DB, tutor: Profile) -> OwnTutorProfileOut:
    out = OwnTutorProfileOut.model_validate(tutor)
    out.missing = missing_for_approval(await tutors.profile_facts(db, tutor))
    return out


async def visible_tutor(db: DB, viewer: Profile, tutor_id: uuid.UUID) -> Profile:
    """A bookable tutor; the tutor themself and operators also see one who is not."""
    tutor = await get_tutor(db, tutor_id)
    if tutor.tutor_status is not TutorStatus.APPROVED and viewer.id != tutor.id \
            and viewer.role != Role.ADMIN:
        raise NotFound("tutor_not_found", "There is no tutor with that id.")
    return tutor


@router.get("/tutors", response_model=TutorPage)
async def list_tutors(
    db: DB, rt: RuntimeDep, _: User,
    subject: Annotated[str | None, Query(max_length=80)] = None,
    level: Annotated[str | None, Query(max_length=32)] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    min_rate: Annotated[int | None, Query(ge=0, le=MAX_RATE_XAF)] = None,
    max_rate: Annotated[int | None, Query(ge=0, le=MAX_RATE_XAF)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TutorPage:
    """Bookable (approved) tutors by name, matching every filter given."""
    rows, next_cursor = await tutors.bookable(
        db, tutors.TutorFilter(subject, level, language, min_rate, max_rate),
        cursor=cursor, limit=limit)
    rated = await reviews.ratings(db, (t.id for t in rows))
    return TutorPage(items=[public(rt, t, rated) for t in rows], next_cursor=next_cursor)


@router.get("/tutors/{tutor_id}", response_model=TutorOut)
async def tutor_profile(tutor_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> TutorOut:
    tutor = await visible_tutor(db, user, tutor_id)
    return public(rt, tutor, await reviews.ratings(db, [tutor.id]))


@router.get("/tutors/{tutor_id}/slots", response_model=SlotsOut)
async def slots(
    tutor_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
    minutes: Annotated[int, Query(ge=MIN_MINUTES, le=MAX_MINUTES)] = 60,
    zone: Annotated[str | None, Query(max_length=64, description="default: yours")] = None,
) -> SlotsOut:
    """Bookable start times in [from, to) (default: the next 14 days), given in the
    viewer's time zone."""
    tutor = await visible_tutor(db, user, tutor_id)
    viewer_zone = check_time_zone(zone or user.time_zone)
    found = await availability.slots(db, rt, tutor, start, end, minutes)
    local = ZoneInfo(viewer_zone)
    return SlotsOut(tutor_id=tutor.id, time_zone=viewer_zone, minutes=minutes,
                    slots=[s.astimezone(local) for s in found])


@router.get("/me/tutor", response_model=OwnTutorProfileOut)
async def my_tutor_profile(db: DB, user: User) -> OwnTutorProfileOut:
    tutors.require_tutor(user)
    return await own(db, user)


@router.patch("/me/tutor", response_model=OwnTutorProfileOut)
async def update_my_tutor_profile(
    body: TutorProfileIn, db: DB, rt: RuntimeDep, user: User
) -> OwnTutorProfileOut:
    changes = body.model_dump(exclude_unset=True, mode="json")
    return await own(db, await tutors.update_profile(db, rt, user, changes))


async def _availability_out(db: DB, rt: Runtime, tutor: Profile) -> AvailabilityIO:
    av = await availability.availability_of(db, rt, tutor)
    return AvailabilityIO.of(av, tutor.buffer_minutes, tutor.min_notice_minutes,
                             tutor.horizon_days)


@router.get("/me/availability", response_model=AvailabilityIO)
async def my_availability(db: DB, rt: RuntimeDep, user: User) -> AvailabilityIO:
    tutors.require_tutor(user)
    return await _availability_out(db, rt, user)


@router.put("/me/availability", response_model=AvailabilityIO)
async def replace_my_availability(
    body: AvailabilityIO, db: DB, rt: RuntimeDep, user: User
) -> AvailabilityIO:
    """The whole schedule at once (weekly hours, dated exceptions, settings): checked in
    full first, so a refusal changes nothing."""
    await tutors.replace_hours(
        db, rt, user, [w.domain() for w in body.weekly], [x.domain() for x in body.exceptions],
        availability.TutorLimits(body.buffer_minutes, body.min_notice_minutes,
                                 body.horizon_days), body.time_zone)
    return await _availability_out(db, rt, user)


@router.get("/admin/tutors", response_model=list[OwnTutorProfileOut], tags=["operators"])
async def tutors_for_operators(
    db: DB, _: Admin, status: TutorStatus | None = None
) -> list[OwnTutorProfileOut]:
    return [await own(db, t) for t in await tutors.for_operators(db, status)]


@router.post("/admin/tutors/{tutor_id}/approve", response_model=OwnTutorProfileOut,
             tags=["operators"], responses=errors(409))
async def approve_tutor(
    tutor_id: uuid.UUID, db: DB, rt: RuntimeDep, admin: Admin
) -> OwnTutorProfileOut:
    return await own(db, await tutors.approve(db, rt, admin, tutor_id))


@router.post("/admin/tutors/{tutor_id}/suspend", response_model=OwnTutorProfileOut,
             tags=["operators"], responses=errors(409))
async def suspend_tutor(
    tutor_id: uuid.UUID, body: RequiredReasonIn, db: DB, rt: RuntimeDep, admin: Admin
) -> OwnTutorProfileOut:
    return await own(db, await tutors.suspend(db, rt, admin, tutor_id, body.reason))
