"""The two webhooks are answered by a raw ASGI fast path before FastAPI's routing; their
FastAPI routes stay (the OpenAPI document, and the app built without the fast path). Both
must answer every delivery alike: same status, same body, same headers, same rows."""

from typing import Any

import httpx
from sqlalchemy import func, select

from prepskul.app import create_app
from prepskul.db.models import WebhookEvent
from tests.conftest import FAPSHI_SECRET

GOOD = {"x-wh-secret": FAPSHI_SECRET}


async def _answers(rt: Any, *, fast: bool, trans_id: str) -> list[tuple[int, Any, bool]]:
    app = create_app(rt, mount_fakes=False, webhook_fast_path=fast)
    body = {"transId": trans_id, "status": "SUCCESSFUL"}
    sends = [({"json": body, "headers": GOOD}),  # stored
             ({"json": body, "headers": GOOD}),  # the same again: a duplicate
             ({"json": body, "headers": {"x-wh-secret": "wrong"}}),  # refused, kept as evidence
             ({"content": b"[1, 2]", "headers": GOOD})]  # verified, but not a transaction
    answers = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        for send in sends:
            r = await client.post("/api/webhooks/fapshi", **send)
            answers.append((r.status_code, r.json(), r.headers["content-type"] ==
                            "application/json" and "x-request-id" in r.headers
                            and r.headers["x-frame-options"] == "DENY"))
    return answers


async def test_the_fast_path_answers_as_the_routes_do(rt) -> None:  # type: ignore[no-untyped-def]
    fast = await _answers(rt, fast=True, trans_id="FASTPATH1")
    routed = await _answers(rt, fast=False, trans_id="ROUTED001")
    assert fast == routed
    assert [status for status, _, _ in fast] == [200, 200, 401, 400]
    assert [body.get("duplicate") for _, body, _ in fast[:2]] == [False, True]
    assert all(headers_as_everywhere for _, _, headers_as_everywhere in fast)
    async with rt.sessions() as db:
        kept = await db.scalar(select(func.count()).select_from(WebhookEvent))
    assert kept == 6  # per app: one stored, two refused ones kept as evidence


async def test_the_fast_path_leaves_other_methods_and_paths_to_the_router(rt) -> None:  # type: ignore[no-untyped-def]
    app = create_app(rt, mount_fakes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        wrong_method = await client.get("/api/webhooks/fapshi")
        unknown = await client.post("/api/webhooks/stripe", json={}, headers=GOOD)
    assert wrong_method.status_code == 405 and unknown.status_code == 404
