"""The OpenAPI document states every error answer an operation gives, so that a client
generated from it (the mobile app's) knows them all.

Routes declare the refusals of their own rules (`responses=errors(409)`). The answers that
come from what every route shares are added here, in one place, from facts the document
already holds: a signed-in operation can answer 401, and 403 (the caller's role, or a
change sent with a cookie but without the page's CSRF token); a body can be unreadable
(400) or too large (413); any id in the path can name nothing (404); any parameter or body
can be invalid, or hold text Postgres cannot store (422). Webhooks and probes state their
own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from prepskul.api.errors import MEANINGS

OWN_CONTRACT = ("/api/webhooks/", "/healthz", "/readyz", "/metrics", "/sandbox/")
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _shared_errors(method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {422}
    if operation.get("security"):
        statuses |= {401, 403}  # every signed-in operation is for some roles only
    if "requestBody" in operation:
        statuses |= {400, 413}  # not JSON at all; too large
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.add(404)
    return statuses


def _error_answer(status: int) -> dict[str, Any]:
    return {"description": MEANINGS[status],
            "content": {"application/json": {"schema": ERROR_REF}}}


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = operation.setdefault("responses", {})
            shared = set() if path.startswith(OWN_CONTRACT) else _shared_errors(method, operation)
            if "422" in answers:  # FastAPI's entry: a shape our error handler does not answer
                shared.add(422)
            for status in shared:
                answers[str(status)] = _error_answer(status)
            operation["responses"] = dict(sorted(answers.items()))
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
