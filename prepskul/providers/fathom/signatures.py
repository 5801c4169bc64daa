"""Standard Webhooks signatures, as Fathom sends them, checked with the `standardwebhooks`
library against every configured secret (several during a rotation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class BadSignature(Exception):
    pass


def verify(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> None:
    """Raise `BadSignature` (with the reason) unless one secret signed this exact body within
    the library's 5-minute tolerance."""
    if not secrets:
        raise BadSignature("no FATHOM_WEBHOOK_SECRET is configured")
    wanted = {k.lower(): v for k, v in headers.items()
              if k.lower() in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    reason = "no signature matched"
    for secret in secrets:
        try:
            _webhook(secret).verify(body, wanted, json_parse=False)
            return
        except WebhookVerificationError as exc:
            reason = str(exc)
        except UnicodeDecodeError:
            raise BadSignature("the body is not UTF-8") from None
    raise BadSignature(reason)


@lru_cache(maxsize=8)
def _webhook(secret: str) -> Webhook:
    """One verifier per secret, its key decoded once (not on every delivery)."""
    return Webhook(secret)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value (the fake Fathom and the tests sign with it)."""
    when = datetime.fromtimestamp(timestamp, UTC)
    return str(Webhook(secret).sign(msg_id, when, body.decode()))
