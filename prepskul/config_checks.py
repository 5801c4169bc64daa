"""The form of each secret and URL, checked at start; each refusal names the setting and the
form it expects. A malformed Fathom secret can never verify a delivery, so it is refused in
every mode; strength and HTTPS are production's rules (a sandbox signs with its own secrets
and runs on loopback)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

# Standard Webhooks (Fathom signs with it): `whsec_` + base64 of the key, 24 to 64 bytes.
FATHOM_SECRET_PREFIX = "whsec_"
FATHOM_SECRET_MIN_BYTES = 24
# HS256 wants a key at least as long as its hash (RFC 7518 §3.2): 256 bits.
JWT_SECRET_MIN_CHARS = 32
# The Fapshi webhook secret is chosen by the operator in Fapshi's dashboard.
FAPSHI_SECRET_MIN_CHARS = 24
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
LOOPBACK_NAMES = frozenset({"localhost"})


def fathom_secret_problems(value: str | None) -> Iterator[str]:
    for position, entry in enumerate((value or "").split(), start=1):
        key = entry.removeprefix(FATHOM_SECRET_PREFIX)
        try:
            size = len(base64.b64decode(key, validate=True)) if key != entry else 0
        except (binascii.Error, ValueError):
            size = 0
        if size < FATHOM_SECRET_MIN_BYTES:
            yield (f"FATHOM_WEBHOOK_SECRET: entry {position} is not a webhook secret; "
                   f"expected `{FATHOM_SECRET_PREFIX}` followed by base64 of at least "
                   f"{FATHOM_SECRET_MIN_BYTES} bytes, as `prepskul fathom webhook register` "
                   "prints it (several are separated by spaces)")


def secret_strength_problems(*, fapshi: str | None, jwt: str | None) -> Iterator[str]:
    if fapshi is not None and len(fapshi) < FAPSHI_SECRET_MIN_CHARS:
        yield (f"FAPSHI_WEBHOOK_SECRET: too short to resist guessing; expected at least "
               f"{FAPSHI_SECRET_MIN_CHARS} characters (make one with `{MAKE_A_SECRET}` and set "
               "the same in Fapshi's dashboard)")
    if jwt is not None and len(jwt) < JWT_SECRET_MIN_CHARS:
        yield (f"SUPABASE_JWT_SECRET: too short for HS256; expected at least "
               f"{JWT_SECRET_MIN_CHARS} characters (Supabase → Project settings → API → "
               "JWT secret)")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def provider_url_problems(name: str, url: str | None) -> Iterator[str]:
    """A production base URL: absolute, HTTPS (plain HTTP only to this machine, e.g. an
    egress proxy), and never one of the sandbox's fake paths."""
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        yield f"{name}: expected an absolute https:// URL, got {url!r}"
        return
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        yield f"{name}: expected an https:// URL (plain http only to loopback), got {url!r}"
    if "sandbox" in parts.path.lower().split("/"):
        yield (f"{name}: {url!r} is a path of the sandbox's fakes, which production never "
               "calls; unset it for the provider's real address")


def key_file_problems(name: str, path: Path | None) -> Iterator[str]:
    """A Google service-account key names the token endpoint its client calls: held to the
    same rules as a base URL."""
    if path is None or not path.is_file():
        return
    try:
        token_uri = json.loads(path.read_text()).get("token_uri")
    except (ValueError, OSError, AttributeError):
        token_uri = None
    if not isinstance(token_uri, str):
        yield f"{name}: {path} is not a Google service-account key (JSON with a token_uri)"
        return
    yield from provider_url_problems(f"{name} (its token_uri)", token_uri)


def public_url_problems(url: str) -> Iterator[str]:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        yield (f"PUBLIC_BASE_URL: expected the https:// address where people and providers "
               f"reach this service (e.g. https://sessions.example.com), got {url!r}")
