"""What every page shares: who is signed in (or a redirect to sign in), the operator check
answered the way pages answer, the CSRF check of form posts, rendering with the page's
words and live-update resume point, and the redirect back with a sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from prepskul.api import csrf
from prepskul.api.auth import AuthError
from prepskul.api.deps import DB, SESSION_COOKIE, identify, require_admin
from prepskul.db.models import Profile
from prepskul.domain.errors import NotAllowed
from prepskul.domain.lifecycle import LESSON_AHEAD
from prepskul.domain.people import DEFAULT_TIME_ZONE, local_time_text
from prepskul.services import live
from prepskul.web.i18n import status_names, translator
from prepskul.web.markdown import markdown_html

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["markdown"] = markdown_html
STATIC = Path(__file__).parent / "static"


class SignInRequired(Exception):
    """Raised by pages when nobody is signed in: answered with a redirect to /signin."""


async def page_user(request: Request, db: DB) -> Profile:
    try:
        return await identify(request, db, request.cookies.get(SESSION_COOKIE))
    except AuthError:
        raise SignInRequired from None


PageUser = Annotated[Profile, Depends(page_user)]


class PageRefused(Exception):
    """The signed-in person may not use this page: sent back to `url` with the reason."""

    def __init__(self, url: str, notice: str) -> None:
        super().__init__(notice)
        self.url, self.notice = url, notice


async def page_admin(user: PageUser) -> Profile:
    """The API's operator check, answered the way pages answer: back, with why."""
    try:
        return require_admin(user)
    except NotAllowed as exc:
        raise PageRefused("/sessions", exc.message) from None


PageAdmin = Annotated[Profile, Depends(page_admin)]
Csrf = Annotated[None, Depends(csrf.form_checked)]


async def render_live(request: Request, db: DB, name: str, user: Profile, **context: Any
                      ) -> Response:
    """A signed-in page whose live updates resume from the moment it was rendered."""
    return render(request, name, user, last_event=await live.latest_id(db), **context)


def render(request: Request, name: str, user: Profile | None, **context: Any) -> Response:
    token = csrf.token_for(request)
    lang = user.language if user else request.cookies.get("prepskul_lang", "fr")
    zone = user.time_zone if user else DEFAULT_TIME_ZONE
    response = templates.TemplateResponse(request, name, {
        "user": user, "t": translator(lang), "lang": lang, "csrf": token,
        "status_names": status_names(lang),
        "lesson_ahead_statuses": sorted(s.value for s in LESSON_AHEAD),
        "notice": request.query_params.get("notice"),
        "local": lambda when: local_time_text(when, zone, lang),
        "sandbox": request.app.state.runtime.settings.is_sandbox, **context})
    csrf.remember(response, token)
    return response


def back(url: str, notice: str | None = None) -> RedirectResponse:
    target = f"{url}?notice={quote(notice)}" if notice else url
    return RedirectResponse(target, status_code=303)
