"""Every refusal answers JSON `{code, message}` with a sentence a person can act on."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from prepskul.api.auth import AuthError, AuthUnavailable
from prepskul.domain.errors import DomainError
from prepskul.domain.throttle import RateLimited

log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorOut(BaseModel):
    """Every refusal: a stable `code` to branch on and a `message` for people."""

    code: str = Field(examples=["slot_taken"])
    message: str = Field(examples=["The tutor already has a session at that time; pick another."])
    errors: list[FieldProblem] | None = Field(
        None, description="for invalid_request: every field that was refused")


MEANINGS = {
    400: "The body is not what this endpoint reads.",
    401: "No valid token: sign in (a Supabase access token as `Authorization: Bearer`), or "
         "for a webhook, a signature or secret that does not match.",
    403: "Signed in, but not allowed: another role's action, or a cookie-authenticated change "
         "without the page's CSRF token.",
    404: "No such thing, or not one the caller may see.",
    409: "The thing's current state does not allow this (e.g. the slot is taken, the session "
         "is not awaiting payment).",
    410: "The thing existed but can no longer be used (an expired or withdrawn invitation).",
    413: "The request body is too large.",
    422: "A field is missing or invalid, or text holds a character that cannot be stored.",
    429: "Too many requests (bookings or invitation codes tried by one person, or refused "
         "webhook deliveries from one address); wait the `Retry-After` seconds.",
    503: "Not ready: the database does not answer or its schema is behind.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers an operation gives, for its OpenAPI entry."""
    return {status: {"model": ErrorOut, "description": MEANINGS[status]} for status in statuses}


def problem(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def _field(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (asked of the router itself: routes
    included from routers are nested, so their method sets are not at hand)."""
    routes = request.app.router.routes
    return [method for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                   for route in routes)]


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        response = problem(exc.status, exc.code, exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        response = problem(401, "unauthenticated", str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(AuthUnavailable)
    async def auth_unavailable(_: Request, exc: AuthUnavailable) -> JSONResponse:
        response = problem(503, "auth_unavailable", str(exc))
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": _field(tuple(e["loc"])), "problem": e["msg"]} for e in exc.errors()
        ]
        first = details[0] if details else {"field": "request", "problem": "is invalid"}
        return problem(
            422, "invalid_request", f"{first['field']}: {first['problem']}", errors=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        response = problem(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first route on this path
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "internal_error", "Something went wrong on our side; try again.")
