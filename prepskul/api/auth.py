"""Supabase Auth JWTs: HS256 with the project's secret, or ES256/RS256 against its JWKS.

`aud` must be `authenticated`. Our product role comes from `app_metadata.role` (set by the
server side of Supabase, so users cannot change it); Supabase's own `role` claim is a
database role and is ignored.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt.types import Options

from prepskul import logs
from prepskul.config import Settings
from prepskul.domain.people import Identity, Role, parse_role
from prepskul.domain.text import is_storable_str

AUDIENCE = "authenticated"
log = logging.getLogger(__name__)


class AuthError(Exception):
    """The token is missing, malformed, forged or expired (401)."""


def sandbox_secret(data_dir: Path) -> str:
    """In sandbox mode without SUPABASE_JWT_SECRET, a random secret kept in the data folder,
    so `prepskul dev-token` and the running demo agree on it."""
    path = data_dir / "dev-jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


class AuthUnavailable(Exception):
    """The project's signing keys cannot be fetched and no cached key fits the token (503:
    the caller did nothing wrong and may retry)."""


class TokenVerifier:
    JWKS_TTL = 600.0

    def __init__(
        self, settings: Settings, http: httpx.AsyncClient, *, refetch_pause: float = 10.0
    ) -> None:
        self._http = http
        self._refetch_pause = refetch_pause
        self._jwks_url = settings.supabase_jwks_url
        self._secret = settings.supabase_jwt_secret
        if not self._secret and not self._jwks_url and settings.is_sandbox:
            self._secret = sandbox_secret(settings.data_dir)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -math.inf  # last successful fetch
        self._tried_at = -math.inf  # last attempt, successful or not
        self._unreachable = False  # the last attempt failed
        self._fetching = asyncio.Lock()

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            # A token without `exp` would be valid forever: Supabase always sets one.
            checks: Options = {"require": ["exp"]}
            if alg == "HS256" and self._secret:
                payload = jwt.decode(token, self._secret, algorithms=["HS256"],
                                     audience=AUDIENCE, options=checks)
            elif alg in ("ES256", "RS256") and self._jwks_url:
                key = await self._key(header.get("kid"))
                payload = jwt.decode(token, key, algorithms=[alg], audience=AUDIENCE,
                                     options=checks)
            else:
                raise AuthError(f"tokens signed with {alg} are not accepted here")
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired; sign in again") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not valid: {exc}") from None
        return _claims(payload)

    async def _key(self, kid: object) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise AuthError("the token names no signing key ('kid')")
        stale = time.monotonic() - self._fetched_at > self.JWKS_TTL
        if kid not in self._keys or stale:
            await self._refresh()
        if kid in self._keys:
            return self._keys[kid]  # a cached key still verifies while the JWKS is down
        if self._unreachable:
            raise AuthUnavailable("Sign-in keys cannot be checked right now; try again "
                                  "in a minute.")
        raise AuthError("the token was signed by a key this project does not publish")

    async def _refresh(self) -> None:
        """At most one fetch per `refetch_pause`, failed or not: a flood of tokens with
        unknown kids (or a JWKS that is down) must not become a flood of fetches."""
        assert self._jwks_url
        async with self._fetching:
            if time.monotonic() - self._tried_at < self._refetch_pause:
                return
            self._tried_at = time.monotonic()
            try:
                response = await self._http.get(self._jwks_url, timeout=5)
                response.raise_for_status()
                keys = {k["kid"]: jwt.PyJWK(k) for k in response.json().get("keys", [])
                        if isinstance(k, dict) and "kid" in k}
            except (httpx.HTTPError, ValueError, TypeError, AttributeError,
                    jwt.PyJWTError) as exc:
                self._unreachable = True
                log.warning("JWKS unavailable (%s); keeping %d cached keys",
                            logs.describe(exc), len(self._keys))
                return
            self._keys, self._fetched_at, self._unreachable = keys, time.monotonic(), False


def _text_claim(claims: dict[str, Any], name: str, label: str, longest: int = 320
                ) -> str | None:
    """A claim we store on the profile: text or absent. Anything else (a list, an object,
    text Postgres cannot store) refuses the token rather than reaching the database."""
    value = claims.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not is_storable_str(value) or len(value) > longest:
        raise AuthError(f"the token's '{label}' claim is not valid text")
    return value


def _claims(payload: dict[str, Any]) -> Identity:
    try:
        sub = uuid.UUID(str(payload.get("sub")))
    except ValueError:
        raise AuthError("the token has no valid 'sub'") from None
    app_meta = payload.get("app_metadata") or {}
    user_meta = payload.get("user_metadata") or {}
    if not isinstance(user_meta, dict):
        user_meta = {}
    name = (_text_claim(user_meta, "full_name", "user_metadata.full_name")
            or _text_claim(user_meta, "name", "user_metadata.name"))
    return Identity(
        sub=sub,
        email=_text_claim(payload, "email", "email"),
        phone=_text_claim(payload, "phone", "phone", longest=32),
        role=parse_role(app_meta.get("role")) if isinstance(app_meta, dict) else None,
        name=name,
    )


def mint_token(
    secret: str, sub: uuid.UUID, *, role: Role, email: str | None = None,
    name: str | None = None, ttl_seconds: int = 24 * 3600,
) -> str:
    """A token shaped like Supabase's (sandbox `dev-token` and tests)."""
    now = int(time.time())
    claims = {
        "sub": str(sub), "aud": AUDIENCE, "role": "authenticated", "email": email,
        "app_metadata": {"role": role.value}, "user_metadata": {"full_name": name},
        "iat": now, "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
