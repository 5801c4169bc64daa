"""Signing in and out (a Supabase token, or a demo user in the sandbox) and the page language."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prepskul.api.auth import AuthError, mint_token, sandbox_secret
from prepskul.api.deps import DB, SESSION_COOKIE, RuntimeDep
from prepskul.domain.people import Language
from prepskul.services import people
from prepskul.services.demo import DEMO_USERS, demo_user
from prepskul.web.rendering import Csrf, PageUser, back, render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    signed_in = request.cookies.get(SESSION_COOKIE)
    return RedirectResponse("/sessions" if signed_in else "/signin", status_code=303)


@router.get("/signin")
async def signin_page(request: Request) -> Response:
    return render(request, "signin.html", None, demo_users=DEMO_USERS)


@router.post("/signin")
async def signin(request: Request, rt: RuntimeDep, _: Csrf,
                 token: Annotated[str, Form()] = "", demo: Annotated[str, Form()] = ""
                 ) -> Response:
    if demo:
        if not rt.settings.is_sandbox:
            return back("/signin", "Demo users exist only in the sandbox.")
        user = demo_user(demo)
        secret = rt.settings.supabase_jwt_secret or sandbox_secret(rt.settings.data_dir)
        token = mint_token(secret, user.id, role=user.role, email=user.email, name=user.name)
    try:
        await request.app.state.verifier.verify(token.strip())
    except AuthError as exc:
        return back("/signin", str(exc))
    response = back("/sessions")
    response.set_cookie(SESSION_COOKIE, token.strip(), httponly=True, samesite="lax",
                        secure=rt.settings.public_base_url.startswith("https://"))
    return response


@router.post("/signout")
async def signout(request: Request, _: Csrf) -> Response:
    response = back("/signin")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
async def language(request: Request, db: DB, user: PageUser, _: Csrf,
                   lang: Annotated[Language, Form()]) -> Response:
    await people.update_profile(db, user, {"language": lang})
    return back(_page_within_site(request.headers.get("referer")))


def _page_within_site(referer: str | None) -> str:
    """Back to the page the form was on — its path only, so that a forged `Referer` can
    never send anyone to another site (`//evil`, `/\\evil` and full URLs included)."""
    path = urlsplit(referer or "").path
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/sessions"
    return path
