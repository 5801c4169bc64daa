"""The OpenAPI document tells the contract the server keeps: its bounds, and every error
answer each operation gives, with the error schema (a generated client relies on it)."""

from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST

from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES


async def _document(api: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get("/openapi.json")).json()
    return body


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


async def test_the_documented_bounds_are_the_ones_the_server_enforces(
    api: httpx.AsyncClient, auth: Any, book: Any
) -> None:
    doc = await _document(api)
    minutes = _schema(doc, "BookingIn")["properties"]["minutes"]
    assert (minutes["minimum"], minutes["maximum"]) == (MIN_MINUTES, MAX_MINUTES)
    await book("student", minutes=MIN_MINUTES)
    await book("student", minutes=MAX_MINUTES, hours_ahead=48)
    await book("student", minutes=MAX_MINUTES + 1, hours_ahead=96, expect=422)
    [status] = [p for p in doc["paths"]["/api/sessions"]["get"]["parameters"]
                if p["name"] == "status"]
    values = status["schema"]["anyOf"][0]["items"]
    assert "" not in _schema(doc, values["$ref"].split("/")[-1])["enum"]
    ok = await api.get("/api/sessions?status=paid&status=scheduled", headers=auth("student"))
    assert ok.status_code == 200
    refused = await api.get("/api/sessions?status=", headers=auth("student"))
    assert refused.status_code == 422  # and the document no longer declares "" valid


async def test_every_operation_declares_its_error_answers_with_the_error_schema(
    api: httpx.AsyncClient,
) -> None:
    doc = await _document(api)
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            failures = {code: a for code, a in answers.items() if code[0] in "45"}
            where = f"{method.upper()} {path}"
            if path not in ("/healthz", "/metrics"):
                assert failures, where
            for code, answer in failures.items():
                assert answer["content"]["application/json"]["schema"] == error, (where, code)
            if operation.get("security"):
                assert "401" in answers and "422" in answers, where
                if method != "get":
                    assert "403" in answers, where
            if "{" in path:
                assert "404" in answers, where
    booking = doc["paths"]["/api/sessions"]["post"]["responses"]
    assert {"401", "403", "404", "409", "413", "422"} <= set(booking)
    assert {"400", "401", "413", "429"} <= set(doc["paths"]["/api/webhooks/fapshi"]["post"][
        "responses"])
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == [CONTENT_TYPE_LATEST]


async def test_a_method_not_allowed_says_which_are(api: httpx.AsyncClient, auth: Any) -> None:
    response = await api.delete("/api/me", headers=auth("student"))
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert response.json()["code"] == "method_not_allowed"
