"""Provider failures, split by what the caller should do about them."""

from __future__ import annotations


class ProviderError(Exception):
    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}" + (f" (HTTP {status})" if status else ""))
        self.provider = provider
        self.message = message
        self.status = status


class RetryableProviderError(ProviderError):
    """Timeouts, network errors, 5xx, rate limits: try again later."""

    def __init__(
        self, provider: str, message: str, *, status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status=status)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """The provider refused for good (bad request, bad credentials, not found)."""
