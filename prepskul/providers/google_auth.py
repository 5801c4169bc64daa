"""Bearer tokens for Google APIs (Calendar, FCM) from google-auth credentials. Tokens are
cached and refreshed by google-auth; its refresh is synchronous, so it runs in a thread."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from prepskul.providers.errors import PermanentProviderError, RetryableProviderError


class TokenSource(Protocol):
    description: str

    async def token(self) -> str: ...

    def invalidate(self) -> None: ...


class StaticToken:
    """The sandbox: a fake accepts exactly this token."""

    def __init__(self, value: str, description: str) -> None:
        self._value, self.description = value, description

    async def token(self) -> str:
        return self._value

    def invalidate(self) -> None:
        pass


class GoogleAuthToken:
    """A google-auth credential's bearer token; refresh failures are `provider`'s errors."""

    def __init__(self, credentials: Any, description: str, *, provider: str) -> None:
        self._credentials, self._provider = credentials, provider
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
                        self._provider, f"token refresh refused: {exc.args[0]}", status=401
                    ) from None
                except TransportError as exc:
                    raise RetryableProviderError(
                        self._provider, f"token endpoint unreachable: {exc}") from None
            return str(self._credentials.token)

    def invalidate(self) -> None:
        self._credentials.token = None
