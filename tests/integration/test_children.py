"""A parent's children as learners without accounts: added with a name, level, school and
language (no email), listed, edited, booked for, and unlinked with their history kept."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from prepskul.api.auth import mint_token
from prepskul.db.models import ParentLink, Profile, TutoringSession
from prepskul.domain.people import Role
from tests.conftest import JWT_SECRET


def other_parent() -> dict[str, str]:
    token = mint_token(JWT_SECRET, uuid.uuid4(), role=Role.PARENT, email="eto@p.test",
                       name="Eto Parent")
    return {"Authorization": f"Bearer {token}"}


async def add(api: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"full_name": "Bibi", "level": "primary", "school": "École Publique de Bali",
            "language": "en", **fields}
    response = await api.post("/api/children", json=body, headers=headers)
    assert response.status_code == 201, response.text
    child: dict[str, Any] = response.json()
    return child


async def test_a_parent_adds_lists_edits_and_books_for_a_child_without_an_account(
    api, auth, book, rt
) -> None:  # type: ignore[no-untyped-def]
    child = await add(api, auth("parent"))
    assert (child["full_name"], child["level"], child["language"], child["has_account"]) == (
        "Bibi", "primary", "en", False)
    listed = (await api.get("/api/children", headers=auth("parent"))).json()
    assert {c["full_name"]: c["has_account"] for c in listed} == {
        "Awa Child": True, "Bibi": False}
    edited = await api.patch(f"/api/children/{child['id']}", headers=auth("parent"),
                             json={"level": "lower_secondary", "school": None})
    assert (edited.json()["level"], edited.json()["school"]) == ("lower_secondary", None)
    session = await book("parent", student_id=child["id"])
    assert session["student_id"] == child["id"]
    async with rt.sessions() as db:
        learner = await db.get(Profile, uuid.UUID(child["id"]))
        assert learner is not None
        assert (learner.role, learner.email, learner.managed_by_id) == (
            Role.STUDENT, None, uuid.UUID("00000000-0000-4000-8000-000000000004"))


async def test_unlinking_ends_the_link_and_keeps_the_history(api, auth, book, rt
                                                             ) -> None:  # type: ignore[no-untyped-def]
    child = await add(api, auth("parent"))
    session = await book("parent", student_id=child["id"])
    gone = await api.delete(f"/api/children/{child['id']}", headers=auth("parent"))
    assert gone.status_code == 204
    listed = (await api.get("/api/children", headers=auth("parent"))).json()
    assert child["id"] not in {c["id"] for c in listed}
    # The parent booked it: the session stays theirs to see, pay or cancel.
    seen = await api.get(f"/api/sessions/{session['id']}", headers=auth("parent"))
    assert seen.status_code == 200
    again = await book("parent", student_id=child["id"], hours_ahead=30, expect=403)
    assert again["code"] == "not_your_child"
    async with rt.sessions() as db:
        link = (await db.scalars(select(ParentLink).where(
            ParentLink.student_id == uuid.UUID(child["id"])))).one()
        assert link.ended_at is not None
        assert await db.get(TutoringSession, uuid.UUID(session["id"])) is not None
    twice = await api.delete(f"/api/children/{child['id']}", headers=auth("parent"))
    assert (twice.status_code, twice.json()["code"]) == (404, "child_not_found")


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
async def test_another_parents_child_is_not_found_and_unchanged(
    api, auth, rt, method
) -> None:  # type: ignore[no-untyped-def]
    child = await add(api, auth("parent"))
    kwargs: dict[str, Any] = {"json": {"full_name": "Taken"}} if method == "patch" else {}
    response = await getattr(api, method)(f"/api/children/{child['id']}",
                                          headers=other_parent(), **kwargs)
    assert (response.status_code, response.json()["code"]) == (404, "child_not_found")
    quote = await api.get("/api/tutors/00000000-0000-4000-8000-000000000001/quote",
                          headers=other_parent(), params={
                              "student_id": child["id"], "starts_at": "2030-01-10T10:00:00Z"})
    assert quote.status_code == 404
    async with rt.sessions() as db:
        learner = await db.get(Profile, uuid.UUID(child["id"]))
        assert learner is not None and learner.full_name == "Bibi"
        assert (await db.scalars(select(ParentLink.ended_at).where(
            ParentLink.student_id == learner.id))).one() is None


@pytest.mark.parametrize(("body", "code"), [
    ({"full_name": ""}, "invalid_request"),
    ({"full_name": "   "}, "invalid_request"),
    ({"full_name": "x" * 121}, "invalid_request"),
    ({"full_name": "Bi\u0000bi"}, None),
    ({"full_name": "Bibi", "school": "s" * 121}, "invalid_request"),
    ({"full_name": "Bibi", "level": "kindergarten"}, "invalid_request"),
    ({"full_name": "Bibi", "language": "de"}, "invalid_request"),
    ({"full_name": "Bibi", "email": "b@b.test"}, "invalid_request"),
])
async def test_a_bad_child_is_refused_and_nothing_is_added(
    api, auth, rt, body, code
) -> None:  # type: ignore[no-untyped-def]
    response = await api.post("/api/children", json=body, headers=auth("parent"))
    assert response.status_code == 422, response.text
    if code:
        assert response.json()["code"] == code
    async with rt.sessions() as db:
        assert (await db.scalars(select(Profile).where(Profile.managed_by_id.is_not(None)))
                ).all() == []


@pytest.mark.parametrize("change", [{"full_name": None}, {"language": None},
                                    {"full_name": ""}, {"school": "s" * 121}])
async def test_a_bad_edit_is_refused_and_changes_nothing(
    api, auth, change
) -> None:  # type: ignore[no-untyped-def]
    child = await add(api, auth("parent"))
    response = await api.patch(f"/api/children/{child['id']}", json=change,
                               headers=auth("parent"))
    assert response.status_code == 422, response.text
    assert (await api.get(f"/api/children/{child['id']}", headers=auth("parent"))
            ).json() == child


async def test_only_parents_have_children(api, auth) -> None:  # type: ignore[no-untyped-def]
    for who in ("student", "tutor"):
        response = await api.post("/api/children", json={"full_name": "X"}, headers=auth(who))
        assert (response.status_code, response.json()["code"]) == (403, "parents_only")


async def test_a_parent_adds_two_children_books_for_both_and_accepts_a_move(
    api, auth, book, paid_session, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    """Done when of issue 17, through the API: two children added (no SQL), the second's
    lesson quoted and charged with the sibling discount, a tutor's proposed move accepted
    by the parent, and the Meet event moved; the parent is told of each child's lessons."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    first = await add(api, auth("parent"), full_name="Bibi")
    second = await add(api, auth("parent"), full_name="Céline", level="lower_secondary")
    tomorrow = (clock.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    paid = await paid_session("parent", student_id=first["id"], starts_at=tomorrow.isoformat())
    assert paid["price_xaf"] == 5000
    later = tomorrow + timedelta(hours=2)
    quote = (await api.get(f"/api/tutors/{paid['tutor_id']}/quote", headers=auth("parent"),
                           params={"student_id": second["id"],
                                   "starts_at": later.isoformat()})).json()
    assert (quote["price_xaf"], quote["sibling_discount_xaf"]) == (4250, 750)
    charged = await book("parent", student_id=second["id"], starts_at=later.isoformat())
    assert charged["price_xaf"] == 4250

    new_start = tomorrow + timedelta(days=2)
    proposed = await api.post(f"/api/sessions/{paid['id']}/proposals", headers=auth("tutor"),
                              json={"starts_at": new_start.isoformat()})
    assert proposed.status_code == 201, proposed.text
    accepted = await api.post(
        f"/api/sessions/{paid['id']}/proposals/{proposed.json()['id']}/accept",
        headers=auth("parent"))
    assert accepted.status_code == 200, accepted.text
    await worker.drain()
    [event] = sandbox.calendar.events.values()
    local = new_start.astimezone(ZoneInfo("Africa/Douala")).replace(tzinfo=None)
    assert event["start"]["dateTime"] == local.isoformat(timespec="seconds")
    assert datetime.fromisoformat(accepted.json()["starts_at"]) == new_start
    # The parent of a child without an account is told, for each child.
    kinds = (await api.get("/api/notifications", headers=auth("parent"))).json()
    items = kinds["items"] if isinstance(kinds, dict) else kinds
    told = {(n["session_id"], n["kind"]) for n in items}
    assert {(paid["id"], "paid"), (paid["id"], "rescheduled"),
            (charged["id"], "booked")} <= told
