"""How a handler tells the queue what to do with a failure."""

from __future__ import annotations


class RetryLater(Exception):
    """Try again, after `after` seconds if given (e.g. a provider's Retry-After)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):
    """Retrying cannot help (bad configuration, a permanent provider refusal): dead-letter
    the job now, with this reason for the operator."""
