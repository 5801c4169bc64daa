"""Fake FCM HTTP v1: checks the bearer token, the project and the message shape as FCM does
(data values must be strings), and answers UNREGISTERED for tokens it does not know.
Device tokens it knows: any starting with `fake-device-`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from prepskul.sandbox.harness import FakeControls, fake_app


def fcm_error(status: int, state: str, message: str, code: str | None = None) -> JSONResponse:
    details = ([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                 "errorCode": code}] if code else [])
    return JSONResponse({"error": {"code": status, "message": message, "status": state,
                                   "details": details}}, status_code=status)


@dataclass
class FakeFcm:
    controls: FakeControls
    token: str
    project_id: str
    sent: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.sent.clear()
        self.controls.reset()

    def app(self) -> FastAPI:
        app = fake_app("fcm", self.controls, lambda s: {"error": {
            "code": s, "message": "Service unavailable", "status": "UNAVAILABLE"}})
        app.add_api_route("/v1/projects/{project}/messages:send", self._send, methods=["POST"])
        return app

    async def _send(self, project: str, request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication "
                             "credentials.")
        if project != self.project_id:
            return fcm_error(403, "PERMISSION_DENIED", f"Permission denied on project {project}")
        try:
            body = await request.json()
            message = body["message"]
            token = message.get("token")
            topic = message.get("topic")
            note = message.get("notification") or {}
            data = message.get("data") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            return fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.",
                             "INVALID_ARGUMENT")
        if (token is None) == (topic is None):  # exactly one target, as FCM requires
            return fcm_error(400, "INVALID_ARGUMENT", "Exactly one of token, topic or "
                             "condition must be set.", "INVALID_ARGUMENT")
        if body.get("validate_only") is True:  # checked as if sent; delivered to nobody
            return JSONResponse({"name": f"projects/{project}/messages/fake_message_id"})
        if topic is not None:
            return fcm_error(400, "INVALID_ARGUMENT", "This fake delivers to device tokens "
                             "only.", "INVALID_ARGUMENT")
        if not all(isinstance(v, str) for v in data.values()) or not isinstance(token, str):
            return fcm_error(400, "INVALID_ARGUMENT", "data values must be strings",
                             "INVALID_ARGUMENT")
        if not token.startswith("fake-device-"):
            return fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        name = f"projects/{project}/messages/{secrets.token_hex(8)}"
        self.sent.append({"token": token, "title": note.get("title"), "body": note.get("body"),
                          "data": data, "name": name})
        return JSONResponse({"name": name})
