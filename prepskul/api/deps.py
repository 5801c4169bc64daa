"""Request dependencies: the runtime, a transaction, and the signed-in person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.api import csrf
from prepskul.api.auth import AuthError, TokenVerifier
from prepskul.db.models import Profile
from prepskul.domain.errors import NotAllowed
from prepskul.domain.people import Role
from prepskul.runtime import Runtime
from prepskul.services.people import profile_for

bearer = HTTPBearer(auto_error=False)
SESSION_COOKIE = "prepskul_token"


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread
    # hop on every request for one attribute lookup.
    rt: Runtime = request.app.state.runtime
    return rt


async def get_db(rt: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncSession]:
    """One request, one transaction: committed if the route returns, rolled back if not —
    and committed *before* the answer is sent (scope="function"), so nothing is
    acknowledged that is not durable. FastAPI's default would commit after responding."""
    async with rt.sessions.begin() as db:
        yield db


async def current_user(
    request: Request,
    db: Annotated[AsyncSession, Depends(get_db, scope="function")],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Profile:
    token = creds.credentials if creds else request.cookies.get(SESSION_COOKIE)
    if creds is None and token and request.method not in ("GET", "HEAD", "OPTIONS"):
        # A cookie rides along with any cross-site request: API changes made with it must
        # carry the page's CSRF token in a header (forms are checked by their own field).
        csrf.check(request, request.headers.get("x-csrf-token"))
    return await identify(request, db, token)


async def identify(request: Request, db: AsyncSession, token: str | None) -> Profile:
    """The profile behind a token, created on first sight; `AuthError` if there is none."""
    if not token:
        raise AuthError("sign in first: send 'Authorization: Bearer <Supabase access token>'")
    verifier: TokenVerifier = request.app.state.verifier
    identity = await verifier.verify(token)
    return await profile_for(db, identity)


def require_admin(user: Profile) -> Profile:
    """Operators only: the one check behind the operator API and the operator pages."""
    if user.role != Role.ADMIN:
        raise NotAllowed("admin_only", "Only operators can do this.")
    return user


async def admin_user(user: Annotated[Profile, Depends(current_user)]) -> Profile:
    return require_admin(user)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DB = Annotated[AsyncSession, Depends(get_db, scope="function")]
User = Annotated[Profile, Depends(current_user)]
Admin = Annotated[Profile, Depends(admin_user)]
