"""FCM HTTP v1: `POST /v1/projects/{project}/messages:send`, with a google-auth token from a
Firebase service-account key (scope firebase.messaging)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from prepskul.providers.errors import PermanentProviderError
from prepskul.providers.google_auth import GoogleAuthToken, StaticToken, TokenSource
from prepskul.providers.transport import call, json_body, json_message

PROVIDER = "fcm"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
SANDBOX_TOKEN = "sandbox-fcm-token"
SANDBOX_PROJECT = "prepskul-sandbox"


class UnregisteredToken(PermanentProviderError):
    """The device token is no longer valid: forget it."""


def _error_code(response: httpx.Response) -> str | None:
    try:
        details = response.json()["error"].get("details") or []
    except (ValueError, KeyError, AttributeError):
        return None
    return next((d.get("errorCode") for d in details if d.get("errorCode")), None)


def _message(response: httpx.Response) -> str:
    code = _error_code(response)
    text = json_message(response, "error.message")
    return f"{text} [{code}]" if code else text


class PushClient:
    def __init__(self, http: httpx.AsyncClient, *, base_url: str, project_id: str,
                 credentials: TokenSource) -> None:
        self._http, self.project_id, self.credentials = http, project_id, credentials
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_key_file(cls, http: httpx.AsyncClient, path: Path, base_url: str) -> PushClient:
        from google.oauth2 import service_account

        project = json.loads(path.read_text())["project_id"]
        creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(path), scopes=[SCOPE])
        return cls(http, base_url=base_url, project_id=project,
                   credentials=GoogleAuthToken(creds, f"Firebase key {path.name}",
                                               provider=PROVIDER))

    @classmethod
    def sandbox(cls, http: httpx.AsyncClient, base_url: str) -> PushClient:
        return cls(http, base_url=base_url, project_id=SANDBOX_PROJECT,
                   credentials=StaticToken(SANDBOX_TOKEN, "sandbox token (fake FCM)"))

    async def validate(self) -> str:
        """Ask FCM to validate a message to a topic without delivering it (`validate_only`):
        proves the key, the project and the permission to send, and bothers nobody."""
        url = f"{self.base_url}/v1/projects/{self.project_id}/messages:send"
        message = {"validate_only": True, "message": {
            "topic": "prepskul-doctor", "notification": {"title": "check", "body": "check"}}}
        headers = {"Authorization": f"Bearer {await self.credentials.token()}"}
        response = await call(self._http, PROVIDER, "messages.send", "POST", url,
                              headers=headers, json=message, error_message=_message)
        return str(json_body(PROVIDER, "messages.send", response).get("name", ""))

    async def send(self, token: str, title: str, body: str, data: dict[str, str]) -> str:
        url = f"{self.base_url}/v1/projects/{self.project_id}/messages:send"
        message: dict[str, Any] = {"message": {
            "token": token, "notification": {"title": title, "body": body}, "data": data}}
        headers = {"Authorization": f"Bearer {await self.credentials.token()}"}
        try:
            response = await call(self._http, PROVIDER, "messages.send", "POST", url,
                                  headers=headers, json=message, error_message=_message)
        except PermanentProviderError as exc:
            if "UNREGISTERED" in exc.message or exc.status == 404:
                raise UnregisteredToken(PROVIDER, exc.message, status=exc.status) from None
            raise
        return str(json_body(PROVIDER, "messages.send", response).get("name", ""))
