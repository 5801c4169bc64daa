"""Invitation codes: a parent makes a short-lived, single-use code; the child, signed in
with their own account, accepts it and is linked. A code made for a learner the parent
added hands that learner's history to the account. Expired, used, withdrawn and unknown
codes are refused clearly, guessing is rate-limited, and a refusal changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from prepskul.api.auth import mint_token
from prepskul.db.models import Invitation, ParentLink, Profile
from prepskul.domain.people import Role
from tests.conftest import JWT_SECRET
from tests.integration.test_plans import propose as propose_plan


def account(role: Role = Role.STUDENT) -> tuple[uuid.UUID, dict[str, str]]:
    sub = uuid.uuid4()
    token = mint_token(JWT_SECRET, sub, role=role, email=f"{sub.hex[:8]}@kids.test",
                       name="Kid Account")
    return sub, {"Authorization": f"Bearer {token}"}


async def invite(api: Any, auth: Any, child_id: str | None = None) -> dict[str, Any]:
    body = {"child_id": child_id} if child_id else {}
    response = await api.post("/api/invitations", json=body, headers=auth("parent"))
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def accept(api: Any, headers: dict[str, str], code: str) -> Any:
    return await api.post("/api/invitations/accept", json={"code": code}, headers=headers)


async def test_a_child_with_an_account_accepts_a_code_and_sees_their_history(
    api, auth, book, rt, clock
) -> None:  # type: ignore[no-untyped-def]
    added = (await api.post("/api/children", json={"full_name": "Bibi", "school": "Lycée"},
                            headers=auth("parent"))).json()
    session = await book("parent", student_id=added["id"])
    plan = await propose_plan(api, auth, clock, student_id=added["id"])
    made = await invite(api, auth, added["id"])
    assert len(made["code"]) == 11 and made["child_id"] == added["id"]
    kid, headers = account()
    # Typed by hand: lower case, no dash.
    accepted = await accept(api, headers, made["code"].replace("-", "").lower())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["parent_name"] == "Paul Parent"
    assert (await api.get(f"/api/plans/{plan['id']}", headers=auth("parent"))
            ).json()["student_id"] == str(kid)
    mine = (await api.get("/api/sessions", headers=headers)).json()["items"]
    assert [s["id"] for s in mine] == [session["id"]]
    assert mine[0]["student_id"] == str(kid)
    children = (await api.get("/api/children", headers=auth("parent"))).json()
    assert {c["id"]: c["has_account"] for c in children} == {
        "00000000-0000-4000-8000-000000000005": True, str(kid): True}
    # The parent still books and pays for the child, now under the account.
    await book("parent", student_id=str(kid), hours_ahead=30)
    async with rt.sessions() as db:
        old = await db.get(Profile, uuid.UUID(added["id"]))
        me = await db.get(Profile, kid)
        assert old is not None and me is not None
        assert (old.merged_into_id, me.school) == (kid, "Lycée")
    used = await accept(api, account()[1], made["code"])
    assert (used.status_code, used.json()["code"]) == (409, "invitation_used")


async def test_a_code_without_a_child_links_a_new_child(api, auth) -> None:  # type: ignore[no-untyped-def]
    made = await invite(api, auth)
    kid, headers = account()
    assert (await accept(api, headers, made["code"])).status_code == 200
    again = await invite(api, auth)
    refused = await accept(api, headers, again["code"])
    assert (refused.status_code, refused.json()["code"]) == (409, "already_linked")
    await api.delete(f"/api/children/{kid}", headers=auth("parent"))
    assert (await accept(api, headers, again["code"])).status_code == 200  # linked again


async def test_an_expired_code_is_refused_and_links_nobody(
    api, auth, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    made = await invite(api, auth)
    clock.advance(timedelta(hours=rt.settings.invitation_valid_hours, seconds=1))
    kid, headers = account()
    refused = await accept(api, headers, made["code"])
    assert (refused.status_code, refused.json()["code"]) == (410, "invitation_expired")
    await _not_linked(rt, kid)


async def test_unlinking_withdraws_the_childs_open_code(api, auth, rt) -> None:  # type: ignore[no-untyped-def]
    added = (await api.post("/api/children", json={"full_name": "Bibi"},
                            headers=auth("parent"))).json()
    first = await invite(api, auth, added["id"])
    second = await invite(api, auth, added["id"])  # a new code withdraws the first
    kid, headers = account()
    refused = await accept(api, headers, first["code"])
    assert (refused.status_code, refused.json()["code"]) == (410, "invitation_revoked")
    await api.delete(f"/api/children/{added['id']}", headers=auth("parent"))
    refused = await accept(api, headers, second["code"])
    assert (refused.status_code, refused.json()["code"]) == (410, "invitation_revoked")
    await _not_linked(rt, kid)


@pytest.mark.parametrize("role", [Role.PARENT, Role.TUTOR, Role.ADMIN])
async def test_only_a_student_accepts_a_code(api, auth, role) -> None:  # type: ignore[no-untyped-def]
    made = await invite(api, auth)
    headers = account(role)[1]
    refused = await accept(api, headers, made["code"])
    assert (refused.status_code, refused.json()["code"]) == (403, "students_only")


async def test_guessing_codes_is_rate_limited(api, auth, rt) -> None:  # type: ignore[no-untyped-def]
    kid, headers = account()
    answers = [(await accept(api, headers, "AAAAA-AAAAA")).status_code
               for _ in range(rt.settings.invitation_attempts_per_hour + 1)]
    assert answers[:-1] == [404] * rt.settings.invitation_attempts_per_hour
    assert answers[-1] == 429
    made = await invite(api, auth)
    late = await accept(api, headers, made["code"])  # even the right code must wait
    assert (late.status_code, late.json()["code"]) == (429, "too_many_attempts")
    await _not_linked(rt, kid)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"code": "short"}, 422, "invalid_invitation_code"),
    ({"code": "AAAAA-AAAA\u0000"}, 422, None),
    ({"code": "x" * 33}, 422, "invalid_request"),
    ({"code": ""}, 422, "invalid_request"),
    ({}, 422, "invalid_request"),
])
async def test_a_malformed_code_is_refused(api, rt, body, status, code) -> None:  # type: ignore[no-untyped-def]
    kid, headers = account()
    response = await api.post("/api/invitations/accept", json=body, headers=headers)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code
    await _not_linked(rt, kid)


async def test_a_parent_cannot_invite_for_anothers_child_or_an_account(
    api, auth, rt
) -> None:  # type: ignore[no-untyped-def]
    unknown = await api.post("/api/invitations", json={"child_id": str(uuid.uuid4())},
                             headers=auth("parent"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "child_not_found")
    has_account = await api.post("/api/invitations", headers=auth("parent"), json={
        "child_id": "00000000-0000-4000-8000-000000000005"})
    assert (has_account.status_code, has_account.json()["code"]) == (409, "child_has_account")
    student = await api.post("/api/invitations", json={}, headers=auth("student"))
    assert (student.status_code, student.json()["code"]) == (403, "parents_only")
    async with rt.sessions() as db:
        assert (await db.scalars(select(Invitation))).all() == []


async def _not_linked(rt: Any, kid: uuid.UUID) -> None:
    async with rt.sessions() as db:
        assert (await db.scalars(select(ParentLink).where(ParentLink.student_id == kid))
                ).all() == []
