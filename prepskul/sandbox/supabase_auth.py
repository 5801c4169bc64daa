"""Fake Supabase Auth signing keys: a JWKS at `/auth/v1/.well-known/jwks.json` (ES256, as
Supabase's asymmetric JWT signing keys are), tokens minted with the current key, and key
rotation — the old key stays published, as Supabase keeps it until tokens expire."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from prepskul.sandbox.harness import FakeControls, fake_app


@dataclass
class FakeSupabaseAuth:
    controls: FakeControls
    keys: dict[str, ec.EllipticCurvePrivateKey] = field(default_factory=dict)
    current: str = ""
    jwks_reads: int = 0

    def __post_init__(self) -> None:
        self.rotate()

    def rotate(self) -> str:
        kid = secrets.token_hex(8)
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        self.current = kid
        return kid

    def mint(self, sub: uuid.UUID, *, role: str | None = None, email: str | None = None,
             ttl: int = 3600, kid: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"sub": str(sub), "aud": "authenticated",
                                  "role": "authenticated", "email": email,
                                  "iat": now, "exp": now + ttl,
                                  "app_metadata": {"role": role} if role else {}}
        kid = kid or self.current
        return jwt.encode(claims, self.keys[kid], algorithm="ES256", headers={"kid": kid})

    def app(self) -> FastAPI:
        app = fake_app("supabase_auth", self.controls, lambda s: {"message": f"HTTP {s}"})

        @app.get("/auth/v1/.well-known/jwks.json")
        async def jwks() -> JSONResponse:
            self.jwks_reads += 1
            published = []
            for kid, key in self.keys.items():
                jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
                published.append({**jwk, "kid": kid, "alg": "ES256", "use": "sig"})
            return JSONResponse({"keys": published})

        return app
