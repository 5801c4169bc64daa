"""Provider webhooks: verify, store in the inbox, acknowledge. Processing happens in jobs.

Paths are fixed: they are configured in the providers' dashboards."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prepskul.api.errors import errors, problem
from prepskul.api.limits import RejectionLimiter
from prepskul.providers.fathom.models import is_recording_id
from prepskul.providers.fathom.signatures import BadSignature, verify
from prepskul.runtime import Runtime
from prepskul.services import inbox
from prepskul.services.inbox_writer import InboxWriter

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

TRANS_ID = re.compile(r"^[A-Za-z0-9]{8,10}$")


def parse_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def source_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def refuse(request: Request, delivery: inbox.Delivery, *, status: int,
                 code: str, message: str, reason: str, delivery_key: str = "-") -> JSONResponse:
    """Keep the refused delivery as evidence and answer 4xx — unless its source keeps
    sending refused deliveries: then 429, and nothing more is written for it. Deliveries
    that verify never get here, so the real provider is never slowed, however bursty."""
    limiter: RejectionLimiter = request.app.state.webhook_rejections
    if limiter.blocked(delivery.source_ip):
        response = problem(429, "too_many_rejections",
                           "Too many refused deliveries from this address; wait a minute.")
        response.headers["Retry-After"] = "60"
        return response
    limiter.refused(delivery.source_ip)
    rt: Runtime = request.app.state.runtime
    async with rt.sessions.begin() as db:  # only refusals need a transaction of their own
        await inbox.reject(db, delivery, reason=reason, delivery_key=delivery_key)
    return problem(status, code, message)


@router.post("/fapshi", status_code=200, responses=errors(400, 401, 413, 429))
async def fapshi(request: Request) -> JSONResponse:
    """Fapshi posts a Transaction when its status becomes SUCCESSFUL, FAILED or EXPIRED. The
    body is only a hint: the job asks Fapshi's payment-status API what is true."""
    rt: Runtime = request.app.state.runtime  # no dependencies: the hottest route stays lean
    body = await request.body()  # size already bounded by the BodyLimit middleware
    delivery = inbox.Delivery("fapshi", request.headers, body, source_ip(request))
    secret = rt.settings.fapshi_webhook_secret
    if secret and not secrets.compare_digest(
        request.headers.get("x-wh-secret", "").encode(), secret.encode()
    ):
        return await refuse(request, delivery, status=401, code="bad_webhook_secret",
                            message="The x-wh-secret header does not match.",
                            reason="x-wh-secret missing or wrong")
    tx = parse_object(body)
    trans_id, status = (tx or {}).get("transId"), (tx or {}).get("status")
    if not (isinstance(trans_id, str) and TRANS_ID.match(trans_id) and isinstance(status, str)):
        return await refuse(request, delivery, status=400, code="invalid_webhook",
                            message="Expected a JSON Fapshi transaction with 'transId' and "
                            "'status'.", reason="not a Fapshi transaction")
    # One webhook per status change: the same (transId, status) again is a duplicate.
    writer: InboxWriter = request.app.state.inbox_writer
    _, new = await writer.accept(delivery, delivery_key=f"{trans_id}:{status[:20]}")
    return JSONResponse({"received": True, "duplicate": not new})


@router.post("/fathom", status_code=200, responses=errors(400, 401, 413, 429))
async def fathom(request: Request) -> JSONResponse:
    """`new_meeting_content_ready`: a bare Meeting object, signed (Standard Webhooks).
    Resends keep their `webhook-id`, which makes them no-ops."""
    rt: Runtime = request.app.state.runtime
    body = await request.body()  # size already bounded by the BodyLimit middleware
    delivery = inbox.Delivery("fathom", request.headers, body, source_ip(request))
    try:
        verify(body, request.headers, rt.settings.fathom_secrets)
    except BadSignature as exc:
        return await refuse(request, delivery, status=401, code="bad_signature",
                            message=f"The webhook signature is not valid: {exc}.",
                            reason=f"signature: {exc}",
                            delivery_key=request.headers.get("webhook-id", "-"))
    meeting = parse_object(body)
    if meeting is None or not is_recording_id(meeting.get("recording_id")):
        return await refuse(request, delivery, status=400, code="invalid_webhook",
                            message="Expected a JSON Fathom meeting with a positive "
                            "64-bit integer 'recording_id'.", reason="not a Fathom meeting")
    writer: InboxWriter = request.app.state.inbox_writer
    _, new = await writer.accept(delivery, delivery_key=request.headers["webhook-id"][:200])
    return JSONResponse({"received": True, "duplicate": not new})
