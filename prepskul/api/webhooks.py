"""Provider webhooks: verify, store in the inbox, acknowledge. Processing happens in jobs.

Paths are fixed: they are configured in the providers' dashboards."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prepskul.api.deps import DB, RuntimeDep
from prepskul.api.errors import problem
from prepskul.providers.fathom.signatures import BadSignature, verify
from prepskul.services import inbox

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

TRANS_ID = re.compile(r"^[A-Za-z0-9]{8,10}$")


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it passes `limit` bytes (read no further)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def source_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/fapshi", status_code=200)
async def fapshi(request: Request, db: DB, rt: RuntimeDep) -> JSONResponse:
    """Fapshi posts a Transaction when its status becomes SUCCESSFUL, FAILED or EXPIRED. The
    body is only a hint: the job asks Fapshi's payment-status API what is true."""
    body = await read_body(request, rt.settings.max_body_bytes)
    if body is None:
        return problem(413, "too_large", "A Fapshi webhook is a few hundred bytes; this is not.")
    delivery = inbox.Delivery("fapshi", request.headers, body, source_ip(request))
    secret = rt.settings.fapshi_webhook_secret
    if secret and not secrets.compare_digest(
        request.headers.get("x-wh-secret", "").encode(), secret.encode()
    ):
        await inbox.reject(db, delivery, reason="x-wh-secret missing or wrong")
        return problem(401, "bad_webhook_secret", "The x-wh-secret header does not match.")
    tx = parse_object(body)
    trans_id, status = (tx or {}).get("transId"), (tx or {}).get("status")
    if not (isinstance(trans_id, str) and TRANS_ID.match(trans_id) and isinstance(status, str)):
        await inbox.reject(db, delivery, reason="not a Fapshi transaction")
        return problem(400, "invalid_webhook",
                       "Expected a JSON Fapshi transaction with 'transId' and 'status'.")
    # One webhook per status change: the same (transId, status) again is a duplicate.
    _, new = await inbox.accept(db, rt, delivery, delivery_key=f"{trans_id}:{status[:20]}")
    return JSONResponse({"received": True, "duplicate": not new})


@router.post("/fathom", status_code=200)
async def fathom(request: Request, db: DB, rt: RuntimeDep) -> JSONResponse:
    """`new_meeting_content_ready`: a bare Meeting object, signed (Standard Webhooks).
    Resends keep their `webhook-id`, which makes them no-ops."""
    body = await read_body(request, rt.settings.max_body_bytes)
    if body is None:
        return problem(413, "too_large", "A Fathom webhook over 5 MB is not one we accept.")
    delivery = inbox.Delivery("fathom", request.headers, body, source_ip(request))
    try:
        verify(body, request.headers, rt.settings.fathom_secrets)
    except BadSignature as exc:
        await inbox.reject(db, delivery, reason=f"signature: {exc}",
                           delivery_key=request.headers.get("webhook-id", "-"))
        return problem(401, "bad_signature", f"The webhook signature is not valid: {exc}.")
    meeting = parse_object(body)
    if meeting is None or not isinstance(meeting.get("recording_id"), int):
        await inbox.reject(db, delivery, reason="not a Fathom meeting")
        return problem(400, "invalid_webhook",
                       "Expected a JSON Fathom meeting with an integer 'recording_id'.")
    _, new = await inbox.accept(db, rt, delivery,
                                delivery_key=request.headers["webhook-id"][:200])
    return JSONResponse({"received": True, "duplicate": not new})
