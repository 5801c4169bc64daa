"""`POST /api/sessions/{id}/payments`: start paying for a session."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.api.schemas import PaymentOut
from prepskul.services import payments

router = APIRouter(prefix="/api/sessions", tags=["payments"])


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["link", "direct"] = Field(
        description="'link': a hosted checkout page; 'direct': a prompt on the phone"
    )
    phone: str | None = Field(None, max_length=32, description="for 'direct': 6XXXXXXXX")
    medium: Literal["mobile money", "orange money"] | None = None


@router.post("/{session_id}/payments", status_code=201, response_model=PaymentOut,
             responses=errors(409))
async def start_payment(
    session_id: uuid.UUID, body: PaymentIn, db: DB, rt: RuntimeDep, user: User
) -> PaymentOut:
    """The amount is the session's price; it cannot be set by the client. A second request
    while an attempt is open returns that attempt instead of charging twice."""
    payment = await payments.start_payment(
        db, rt, user, session_id, method=body.method, phone=body.phone, medium=body.medium
    )
    return PaymentOut.model_validate(payment)
