"""CSRF protection for forms (and cookie-authenticated API calls): a random token in an
HttpOnly cookie, echoed by every form as a hidden field; both must match."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from prepskul.domain.errors import NotAllowed

COOKIE = "prepskul_csrf"


def token_for(request: Request) -> str:
    return request.cookies.get(COOKIE) or secrets.token_urlsafe(32)


def remember(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax")


def check(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(COOKIE)
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise NotAllowed("bad_form_token",
                         "This form has expired; reload the page and try again.")


async def form_checked(request: Request) -> None:
    """Dependency for form posts: the form's `csrf` field must match the cookie."""
    form = await request.form()
    submitted = form.get("csrf")
    check(request, submitted if isinstance(submitted, str) else None)
