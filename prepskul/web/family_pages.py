"""Family pages: a parent's children (add, edit, unlink, an invitation code for a child's
own account), and the page where a child accepts a code."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from prepskul.api.deps import DB, RuntimeDep
from prepskul.domain.errors import DomainError
from prepskul.domain.people import Language, Role, language
from prepskul.domain.tutors import Level
from prepskul.services import families
from prepskul.web.rendering import Csrf, PageUser, back, render

router = APIRouter(include_in_schema=False)
CHILDREN = "/children"


def _fields(full_name: str, level: str, school: str, lang: str) -> dict[str, Any]:
    """The form's fields as the service reads them (an unknown level or language refused
    with the service's own words)."""
    if level and level not in Level._value2member_map_:
        level = ""
    return {"full_name": full_name, "level": Level(level) if level else None,
            "school": school, "language": language(lang) if lang else None}


async def _children_page(request: Request, db: DB, user: PageUser, **context: Any) -> Response:
    if user.role != Role.PARENT:
        return back("/sessions", "This page is for parents.")
    return render(request, "children.html", user, children=await families.children(db, user),
                  levels=[lv.value for lv in Level], languages=[lg.value for lg in Language],
                  has_account=families.has_account, **context)


@router.get(CHILDREN)
async def children_page(request: Request, db: DB, user: PageUser) -> Response:
    return await _children_page(request, db, user)


@router.post(CHILDREN)
async def add_child(request: Request, db: DB, user: PageUser, _: Csrf,
                    full_name: Annotated[str, Form()] = "", level: Annotated[str, Form()] = "",
                    school: Annotated[str, Form()] = "", lang: Annotated[str, Form()] = ""
                    ) -> Response:
    try:
        child = await families.add_child(db, user, **_fields(full_name, level, school, lang))
    except DomainError as exc:
        return back(CHILDREN, exc.message)
    return back(CHILDREN, f"{child.full_name}: ✓")


@router.post("/children/{child_id}")
async def edit_child(request: Request, child_id: uuid.UUID, db: DB, user: PageUser, _: Csrf,
                     full_name: Annotated[str, Form()] = "",
                     level: Annotated[str, Form()] = "", school: Annotated[str, Form()] = "",
                     lang: Annotated[str, Form()] = "") -> Response:
    try:
        await families.edit_child(db, user, child_id,
                                  _fields(full_name, level, school, lang))
    except DomainError as exc:
        return back(CHILDREN, exc.message)
    return back(CHILDREN, "✓")


@router.post("/children/{child_id}/unlink")
async def unlink_child(request: Request, child_id: uuid.UUID, db: DB, rt: RuntimeDep,
                       user: PageUser, _: Csrf) -> Response:
    try:
        await families.unlink(db, rt, user, child_id)
    except DomainError as exc:
        return back(CHILDREN, exc.message)
    return back(CHILDREN, "✓")


@router.post("/invitations")
async def invite(request: Request, db: DB, rt: RuntimeDep, user: PageUser, _: Csrf,
                 child_id: Annotated[str, Form()] = "") -> Response:
    """The code is shown on this answer only (not in a redirect's address, where it would
    stay in the browser's history)."""
    try:
        made = await families.invite(db, rt, user, uuid.UUID(child_id) if child_id else None)
    except (DomainError, ValueError) as exc:
        return back(CHILDREN, exc.message if isinstance(exc, DomainError) else None)
    return await _children_page(request, db, user, made=made)


@router.get("/invitation")
async def accept_page(request: Request, user: PageUser) -> Response:
    return render(request, "invitation.html", user)


@router.post("/invitation")
async def accept(request: Request, db: DB, rt: RuntimeDep, user: PageUser, _: Csrf,
                 code: Annotated[str, Form()] = "") -> Response:
    try:
        parent = await families.accept(db, rt, user, code)
    except DomainError as exc:
        return back("/invitation", exc.message)
    return back("/sessions", f"✓ {parent.full_name}")
