"""Families: a parent's children (learners, with or without an account of their own) and
the invitation codes a child accepts to link their account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from prepskul.api.deps import DB, RuntimeDep, User
from prepskul.api.errors import errors
from prepskul.db.models import Profile
from prepskul.domain.families import MAX_CODE_INPUT, MAX_NAME, MAX_SCHOOL
from prepskul.domain.people import Language
from prepskul.domain.tutors import Level
from prepskul.services import families

router = APIRouter(prefix="/api", tags=["families"])
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=r"\S",
                            description="not only spaces")]


class ChildIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: Name
    level: Level | None = None
    school: str | None = Field(None, max_length=MAX_SCHOOL)
    language: Language | None = Field(None, description="default: the parent's")


class ChildChange(BaseModel):
    """Absent leaves a field as it is; `null` clears a level or a school."""

    model_config = ConfigDict(extra="forbid")
    full_name: Name | SkipJsonSchema[None] = None
    level: Level | None = None
    school: str | None = Field(None, max_length=MAX_SCHOOL)
    language: Language | SkipJsonSchema[None] = None


class ChildOut(BaseModel):
    id: uuid.UUID
    full_name: str
    level: Level | None
    school: str | None
    language: Language
    has_account: bool = Field(description="the child signs in with an account of their own")

    @classmethod
    def of(cls, child: Profile) -> ChildOut:
        return cls(id=child.id, full_name=child.full_name, level=child.level,
                   school=child.school, language=child.language,
                   has_account=families.has_account(child))


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    child_id: uuid.UUID | None = Field(
        None, description="a child you added: their account takes over the child's sessions; "
        "absent: link a child who is not listed yet")


class InvitationOut(BaseModel):
    code: str = Field(description="shown once; give it to the child")
    child_id: uuid.UUID | None
    expires_at: datetime


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=MAX_CODE_INPUT)


class AcceptedOut(BaseModel):
    parent_id: uuid.UUID
    parent_name: str


@router.get("/children", response_model=list[ChildOut], responses=errors(403))
async def list_children(db: DB, user: User) -> list[ChildOut]:
    return [ChildOut.of(c) for c in await families.children(db, user)]


@router.post("/children", status_code=201, response_model=ChildOut, responses=errors(403))
async def add_child(body: ChildIn, db: DB, user: User) -> ChildOut:
    """A child as a learner without an account: no email needed."""
    return ChildOut.of(await families.add_child(db, user, **body.model_dump()))


@router.get("/children/{child_id}", response_model=ChildOut, responses=errors(403, 404))
async def get_child(child_id: uuid.UUID, db: DB, user: User) -> ChildOut:
    return ChildOut.of(await families.child_of(db, user, child_id))


@router.patch("/children/{child_id}", response_model=ChildOut,
              responses=errors(403, 404, 409))
async def edit_child(child_id: uuid.UUID, body: ChildChange, db: DB, user: User) -> ChildOut:
    changes = body.model_dump(exclude_unset=True)
    return ChildOut.of(await families.edit_child(db, user, child_id, changes))


@router.delete("/children/{child_id}", status_code=204, responses=errors(403, 404))
async def unlink_child(child_id: uuid.UUID, db: DB, rt: RuntimeDep, user: User) -> Response:
    """Ends the link; the child's sessions, notes and payments stay."""
    await families.unlink(db, rt, user, child_id)
    return Response(status_code=204)


@router.post("/invitations", status_code=201, response_model=InvitationOut,
             responses=errors(403, 404, 409, 429))
async def invite(body: InvitationIn, db: DB, rt: RuntimeDep, user: User) -> InvitationOut:
    """A single-use code that expires (`INVITATION_VALID_HOURS`)."""
    made = await families.invite(db, rt, user, body.child_id)
    return InvitationOut(code=made.code, child_id=made.invitation.learner_id,
                         expires_at=made.invitation.expires_at)


@router.post("/invitations/accept", response_model=AcceptedOut,
             responses=errors(403, 404, 409, 410, 429))
async def accept(body: AcceptIn, db: DB, rt: RuntimeDep, user: User) -> AcceptedOut:
    """The child, signed in with their own account, accepts the parent's code."""
    parent = await families.accept(db, rt, user, body.code)
    return AcceptedOut(parent_id=parent.id, parent_name=parent.full_name)
