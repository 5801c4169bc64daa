"""`/api/me` and a tutor's price quote."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.api.schemas import Instant, ProfileIn, ProfileOut
from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES
from prepskul.domain.people import Role
from prepskul.domain.pricing import Kind
from prepskul.services import families, money, people
from prepskul.services.booking import family_price
from prepskul.services.booking import quote as quote_price

router = APIRouter(prefix="/api", tags=["people"])


@router.get("/me", response_model=ProfileOut)
async def me(user: User) -> ProfileOut:
    return ProfileOut.model_validate(user)


@router.patch("/me", response_model=ProfileOut)
async def update_me(body: ProfileIn, db: DB, user: User) -> ProfileOut:
    changes = body.model_dump(exclude_unset=True)
    return ProfileOut.model_validate(await people.update_profile(db, user, changes))


@router.get("/tutors/{tutor_id}/quote", responses=errors(409))
async def quote(
    tutor_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User, kind: Kind = Kind.REGULAR,
    minutes: Annotated[int, Query(ge=MIN_MINUTES, le=MAX_MINUTES)] = 60,
    student_id: uuid.UUID | None = None, starts_at: Instant | None = None,
) -> dict[str, int | str]:
    """What a session would cost, before booking it (the booking charges the same), and how
    much of it the caller's credit would pay. A parent naming the child and the start sees
    the sibling discount the booking will apply."""
    full = await quote_price(db, rt, tutor_id, kind, minutes)
    price = full
    if student_id is not None and starts_at is not None:
        if user.role == Role.PARENT:
            await families.child_of(db, user, student_id)  # 404 for anyone else's child
        price = await family_price(db, rt, user, student_id, starts_at, kind, full)
    from_credit, to_pay = await money.credit_due(db, user.id, price)
    return {"price_xaf": price, "sibling_discount_xaf": full - price,
            "credit_xaf": from_credit, "to_pay_xaf": to_pay,
            "currency": "XAF"}
