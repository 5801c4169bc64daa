"""Bearer tokens for the Calendar API, from google-auth: a service account with domain-wide
delegation (impersonating the organiser), or one account's OAuth refresh token. Tokens are
cached and refreshed by google-auth; its refresh is synchronous, so it runs in a thread."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from prepskul.config import Settings
from prepskul.providers.errors import PermanentProviderError, RetryableProviderError

SCOPES = ["https://www.googleapis.com/auth/calendar.events"]
SANDBOX_TOKEN = "sandbox-google-token"


class TokenSource(Protocol):
    description: str

    async def token(self) -> str: ...

    def invalidate(self) -> None: ...


class StaticToken:
    """The sandbox: the fake Calendar accepts exactly this token."""

    description = "sandbox token (fake Google Calendar)"

    def __init__(self, value: str = SANDBOX_TOKEN) -> None:
        self._value = value

    async def token(self) -> str:
        return self._value

    def invalidate(self) -> None:
        pass


class GoogleAuthToken:
    def __init__(self, credentials: Any, description: str) -> None:
        self._credentials = credentials
        self._lock = asyncio.Lock()
        self.description = description

    async def token(self) -> str:
        from google.auth.exceptions import RefreshError, TransportError
        from google.auth.transport.requests import Request

        async with self._lock:
            if not self._credentials.valid:
                try:
                    await asyncio.to_thread(self._credentials.refresh, Request())
                except RefreshError as exc:  # revoked token, bad key, no delegation…
                    raise PermanentProviderError(
                        "google_calendar", f"token refresh refused: {exc.args[0]}", status=401
                    ) from None
                except TransportError as exc:
                    raise RetryableProviderError(
                        "google_calendar", f"token endpoint unreachable: {exc}") from None
            return str(self._credentials.token)

    def invalidate(self) -> None:
        self._credentials.token = None


def credentials_from_settings(settings: Settings) -> TokenSource:
    if settings.google_service_account_file and settings.google_delegated_user:
        from google.oauth2 import service_account

        creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(settings.google_service_account_file), scopes=SCOPES,
            subject=settings.google_delegated_user,
        )
        return GoogleAuthToken(
            creds, f"service account acting as {settings.google_delegated_user}"
        )
    if (settings.google_oauth_client_id and settings.google_oauth_client_secret
            and settings.google_oauth_refresh_token):
        from google.oauth2.credentials import Credentials

        creds = Credentials(  # type: ignore[no-untyped-call]
            None, refresh_token=settings.google_oauth_refresh_token,
            token_uri=settings.google_token_uri, client_id=settings.google_oauth_client_id,
            client_secret=settings.google_oauth_client_secret, scopes=SCOPES,
        )
        return GoogleAuthToken(creds, "OAuth refresh token")
    return StaticToken()
