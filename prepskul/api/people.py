"""`/api/me` and `/api/tutors`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import ProfileIn, ProfileOut, TutorOut
from prepskul.domain.pricing import Kind
from prepskul.services import people, reviews
from prepskul.services.booking import quote as quote_price
from prepskul.services.booking import trial_prices

router = APIRouter(prefix="/api", tags=["people"])


@router.get("/me", response_model=ProfileOut)
async def me(user: User) -> ProfileOut:
    return ProfileOut.model_validate(user)


@router.patch("/me", response_model=ProfileOut)
async def update_me(body: ProfileIn, db: DB, user: User) -> ProfileOut:
    changes = body.model_dump(exclude_unset=True)
    return ProfileOut.model_validate(await people.update_profile(db, user, changes))


@router.get("/tutors", response_model=list[TutorOut])
async def tutors(
    db: DB, rt: RuntimeDep, _: User, subject: Annotated[str | None, Query(max_length=80)] = None
) -> list[TutorOut]:
    prices = trial_prices(rt).by_minutes
    found = await people.list_tutors(db, subject)
    rated = await reviews.ratings(db, (t.id for t in found))
    return [
        TutorOut(id=t.id, full_name=t.full_name, subjects=t.subjects,
                 hourly_rate_xaf=t.hourly_rate_xaf, trial_prices_xaf=prices,
                 requires_approval=t.requires_approval, time_zone=t.time_zone,
                 rating_average=rated[t.id][0] if t.id in rated else None,
                 rating_count=rated[t.id][1] if t.id in rated else None)
        for t in found
    ]


@router.get("/tutors/{tutor_id}/quote")
async def quote(
    tutor_id: uuid.UUID, db: DB, rt: RuntimeDep, _: User, kind: Kind = Kind.REGULAR,
    minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
) -> dict[str, int | str]:
    """What a session would cost, before booking it (the booking charges the same)."""
    return {"price_xaf": await quote_price(db, rt, tutor_id, kind, minutes), "currency": "XAF"}
