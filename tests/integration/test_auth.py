"""Supabase-issued JWTs: who may call, who they are, what they see."""

import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET


def _token(secret: str = JWT_SECRET, **claims: object) -> str:
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated",
            "iat": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401_with_a_hint(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/me")
    assert response.status_code == 401
    assert "Bearer" in response.json()["message"]


@pytest.mark.parametrize("case", ["forged", "expired", "wrong_audience", "garbage", "alg_none"])
async def test_bad_tokens_are_refused(api: httpx.AsyncClient, case: str) -> None:
    token = {
        "forged": _token(secret="not-the-project-secret-but-long-enough-for-hs256"),
        "expired": _token(exp=int(time.time()) - 10),
        "wrong_audience": _token(aud="anon"),
        "garbage": "not.a.jwt",
        "alg_none": jwt.encode({"sub": str(uuid.uuid4()), "aud": "authenticated"}, None,
                               algorithm="none"),
    }[case]
    response = await api.get("/api/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


async def test_a_first_request_creates_the_profile_from_the_claims(api: httpx.AsyncClient) -> None:
    sub = str(uuid.uuid4())
    token = _token(sub=sub, email="new@example.com", app_metadata={"role": "parent"},
                   user_metadata={"full_name": "Nouvelle Maman"})
    me = (await api.get("/api/me", headers=_bearer(token))).json()
    assert me == me | {"id": sub, "role": "parent", "full_name": "Nouvelle Maman",
                       "email": "new@example.com", "time_zone": "Africa/Douala"}


async def test_supabase_role_claim_is_not_our_role(api: httpx.AsyncClient) -> None:
    token = _token(role="service_role")  # a database role, not a product role
    me = (await api.get("/api/me", headers=_bearer(token))).json()
    assert me["role"] == "student"


async def test_people_edit_their_own_profile_with_checked_values(api, auth) -> None:  # type: ignore[no-untyped-def]
    ok = await api.patch("/api/me", headers=auth("student"),
                         json={"phone": "+237 699 11 22 33", "time_zone": "Europe/Paris",
                               "language": "fr"})
    assert ok.status_code == 200
    assert ok.json()["phone"] == "699112233"
    bad = await api.patch("/api/me", headers=auth("student"), json={"time_zone": "Mars/Base"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_time_zone"
    assert (await api.get("/api/me", headers=auth("student"))).json()["time_zone"] == "Europe/Paris"


async def test_someone_elses_session_is_404_not_403(api, auth, book) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    other = await api.get(f"/api/sessions/{session['id']}", headers=auth("child"))
    assert other.status_code == 404
    assert other.json()["code"] == "session_not_found"
    for who in ("student", "tutor", "admin"):
        seen = await api.get(f"/api/sessions/{session['id']}", headers=auth(who))
        assert seen.status_code == 200, who


async def test_a_parent_sees_the_sessions_of_a_linked_child(api, auth, book) -> None:  # type: ignore[no-untyped-def]
    session = await book("parent", student_id=str(demo_user("child").id))
    assert session["student_id"] == str(demo_user("child").id)
    for who in ("parent", "child"):
        listed = (await api.get("/api/sessions", headers=auth(who))).json()["items"]
        assert [s["id"] for s in listed] == [session["id"]]
    assert (await api.get("/api/sessions", headers=auth("student"))).json()["items"] == []


async def test_es256_tokens_are_checked_against_the_projects_jwks_and_keys_rotate(
    rt, sandbox, settings
) -> None:  # type: ignore[no-untyped-def]
    from prepskul.api.auth import AuthError, TokenVerifier

    fake = sandbox.supabase_auth
    jwks = f"{rt.sandbox_url('supabase')}/auth/v1/.well-known/jwks.json"
    verifier = TokenVerifier(settings.model_copy(update={"supabase_jwks_url": jwks,
                                                         "supabase_jwt_secret": None}),
                             rt.http, refetch_pause=0)
    sub = uuid.uuid4()
    identity = await verifier.verify(fake.mint(sub, role="tutor", email="t@x.cm"))
    assert (identity.sub, identity.role, identity.email) == (sub, "tutor", "t@x.cm")
    reads = fake.jwks_reads
    await verifier.verify(fake.mint(sub))
    assert fake.jwks_reads == reads  # keys are cached, not fetched per request
    fake.rotate()  # a token with a new kid: the JWKS is fetched again, once
    assert (await verifier.verify(fake.mint(sub))).sub == sub
    assert fake.jwks_reads == reads + 1
    forged = jwt.encode({"sub": str(sub), "aud": "authenticated", "exp": int(time.time()) + 60},
                        ec.generate_private_key(ec.SECP256R1()),
                        algorithm="ES256", headers={"kid": fake.current})
    with pytest.raises(AuthError):
        await verifier.verify(forged)


async def test_a_required_profile_field_cannot_be_nulled_but_a_phone_can(api, auth) -> None:  # type: ignore[no-untyped-def]
    for field in ("time_zone", "language", "full_name", "notify_email"):
        refused = await api.patch("/api/me", json={field: None}, headers=auth("student"))
        assert (refused.status_code, refused.json()["code"]) == (422, "value_required"), field
    await api.patch("/api/me", json={"phone": "670000000"}, headers=auth("student"))
    cleared = await api.patch("/api/me", json={"phone": None}, headers=auth("student"))
    assert cleared.json()["phone"] is None
