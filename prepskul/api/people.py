"""`/api/me` and a tutor's price quote."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.schemas import ProfileIn, ProfileOut
from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES
from prepskul.domain.pricing import Kind
from prepskul.services import money, people
from prepskul.services.booking import quote as quote_price

router = APIRouter(prefix="/api", tags=["people"])


@router.get("/me", response_model=ProfileOut)
async def me(user: User) -> ProfileOut:
    return ProfileOut.model_validate(user)


@router.patch("/me", response_model=ProfileOut)
async def update_me(body: ProfileIn, db: DB, user: User) -> ProfileOut:
    changes = body.model_dump(exclude_unset=True)
    return ProfileOut.model_validate(await people.update_profile(db, user, changes))


@router.get("/tutors/{tutor_id}/quote")
async def quote(
    tutor_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User, kind: Kind = Kind.REGULAR,
    minutes: Annotated[int, Query(ge=MIN_MINUTES, le=MAX_MINUTES)] = 60,
) -> dict[str, int | str]:
    """What a session would cost, before booking it (the booking charges the same), and how
    much of it the caller's credit would pay."""
    price = await quote_price(db, rt, tutor_id, kind, minutes)
    from_credit, to_pay = await money.credit_due(db, user.id, price)
    return {"price_xaf": price, "credit_xaf": from_credit, "to_pay_xaf": to_pay,
            "currency": "XAF"}
