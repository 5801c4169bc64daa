"""Provider webhooks: verify, store in the inbox, acknowledge. Processing happens in jobs.

Paths are fixed: they are configured in the providers' dashboards."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import Headers, State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

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


async def refuse(state: State, delivery: inbox.Delivery, *, status: int, code: str,
                 message: str, reason: str, delivery_key: str = "-") -> Response:
    """Keep the refused delivery as evidence and answer 4xx — unless its source keeps
    sending refused deliveries: then 429, and nothing more is written for it. Deliveries
    that verify never get here, so the real provider is never slowed, however bursty."""
    limiter: RejectionLimiter = state.webhook_rejections
    if limiter.blocked(delivery.source_ip):
        response = problem(429, "too_many_rejections",
                           "Too many refused deliveries from this address; wait a minute.")
        response.headers["Retry-After"] = "60"
        return response
    limiter.refused(delivery.source_ip)
    rt: Runtime = state.runtime
    async with rt.sessions.begin() as db:  # only refusals need a transaction of their own
        await inbox.reject(db, delivery, reason=reason, delivery_key=delivery_key)
    return problem(status, code, message)


# The two answers to a delivery that verified, rendered once (as JSONResponse renders them);
# each request gets a Response of its own (middlewares add to its header list).
ANSWERS = {new: json.dumps({"received": True, "duplicate": not new},
                           separators=(",", ":")).encode() for new in (True, False)}


async def accepted(state: State, delivery: inbox.Delivery, delivery_key: str) -> Response:
    writer: InboxWriter = state.inbox_writer
    _, new = await writer.accept(delivery, delivery_key=delivery_key)
    return Response(ANSWERS[new], media_type="application/json")


async def take_fapshi(state: State, delivery: inbox.Delivery) -> Response:
    """Verify a Fapshi delivery by its shared secret, then store it or refuse it."""
    secret = state.runtime.settings.fapshi_webhook_secret
    if secret and not secrets.compare_digest(
        delivery.headers.get("x-wh-secret", "").encode(), secret.encode()
    ):
        return await refuse(state, delivery, status=401, code="bad_webhook_secret",
                            message="The x-wh-secret header does not match.",
                            reason="x-wh-secret missing or wrong")
    tx = parse_object(delivery.body)
    trans_id, status = (tx or {}).get("transId"), (tx or {}).get("status")
    if not (isinstance(trans_id, str) and TRANS_ID.match(trans_id) and isinstance(status, str)):
        return await refuse(state, delivery, status=400, code="invalid_webhook",
                            message="Expected a JSON Fapshi transaction with 'transId' and "
                            "'status'.", reason="not a Fapshi transaction")
    # One webhook per status change: the same (transId, status) again is a duplicate.
    return await accepted(state, delivery, f"{trans_id}:{status[:20]}")


async def take_fathom(state: State, delivery: inbox.Delivery) -> Response:
    """Verify a Fathom delivery by its Standard Webhooks signature, then store or refuse it."""
    try:
        verify(delivery.body, delivery.headers, state.runtime.settings.fathom_secrets)
    except BadSignature as exc:
        return await refuse(state, delivery, status=401, code="bad_signature",
                            message=f"The webhook signature is not valid: {exc}.",
                            reason=f"signature: {exc}",
                            delivery_key=delivery.headers.get("webhook-id", "-"))
    meeting = parse_object(delivery.body)
    if meeting is None or not is_recording_id(meeting.get("recording_id")):
        return await refuse(state, delivery, status=400, code="invalid_webhook",
                            message="Expected a JSON Fathom meeting with a positive "
                            "64-bit integer 'recording_id'.", reason="not a Fathom meeting")
    return await accepted(state, delivery, delivery.headers["webhook-id"][:200])


TAKE = {"fapshi": take_fapshi, "fathom": take_fathom}


# The routes: what the OpenAPI document shows, and what answers when the fast path below is
# not installed. Both run the same `take_*` functions.
@router.post("/fapshi", status_code=200, responses=errors(400, 401, 413, 429))
async def fapshi(request: Request) -> Response:
    """Fapshi posts a Transaction when its status becomes SUCCESSFUL, FAILED or EXPIRED. The
    body is only a hint: the job asks Fapshi's payment-status API what is true."""
    return await _routed("fapshi", request)


@router.post("/fathom", status_code=200, responses=errors(400, 401, 413, 429))
async def fathom(request: Request) -> Response:
    """`new_meeting_content_ready`: a bare Meeting object, signed (Standard Webhooks).
    Resends keep their `webhook-id`, which makes them no-ops."""
    return await _routed("fathom", request)


async def _routed(provider: str, request: Request) -> Response:
    body = await request.body()  # size already bounded by the BodyLimit middleware
    client = request.client.host if request.client else None
    delivery = inbox.Delivery(provider, request.headers, body, client)
    return await TAKE[provider](request.app.state, delivery)


class WebhookFastPath:
    """`POST /api/webhooks/fapshi` and `…/fathom` answered as raw ASGI, before FastAPI's
    routing, request object and response wrappers (the hottest path: BENCHMARKS.md §1).
    It sits inside every middleware (request id, security headers, body limit), runs the
    same `take_*` functions as the routes, and lets an exception rise to the same handler;
    anything else passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths = {f"{router.prefix}/{name}": name for name in TAKE}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = self.paths.get(scope["path"]) if scope["type"] == "http" else None
        if provider is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:  # the size is bounded by BodyLimit, which wraps `receive`
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody to answer; nothing was stored
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        client = scope.get("client")
        delivery = inbox.Delivery(provider, Headers(scope=scope), b"".join(chunks),
                                  client[0] if client else None)
        response = await TAKE[provider](scope["app"].state, delivery)
        await response(scope, receive, send)
