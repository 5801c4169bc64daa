"""Tutor profiles and hours through the API: a new tutor fills theirs in, an operator
approves them, students find and book them in the offered slots; bad input changes
nothing; a suspension releases unpaid bookings and flags paid ones."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from prepskul.api.auth import mint_token
from prepskul.db.models import ChangeEvent
from prepskul.domain.people import Role
from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET

PROFILE = {"subjects": ["Chemistry", "Biology"], "levels": ["upper_secondary"],
           "hourly_rate_xaf": 6000, "bio": "Sciences for the GCE A level.",
           "teaching_languages": ["en"], "time_zone": "Europe/Paris",
           "requires_approval": False}
HOURS = {"weekly": [{"weekday": d, "start": "09:00", "end": "12:00"} for d in range(7)],
         "buffer_minutes": 15}


@pytest.fixture(autouse=True)
def _clean(fresh_db: None) -> None:
    """Each test starts from the demo users."""


@pytest.fixture
def new_tutor() -> Callable[[str], dict[str, str]]:
    """Headers for a tutor signing in for the first time (no seeded profile)."""

    def headers(name: str = "Ms. Eyenga") -> dict[str, str]:
        token = mint_token(JWT_SECRET, uuid.uuid4(), role=Role.TUTOR, email="eyenga@t.test",
                           name=name)
        return {"Authorization": f"Bearer {token}"}

    return headers


async def ready_tutor(api: httpx.AsyncClient, headers: dict[str, str],
                      auth: Callable[[str], dict[str, str]], **profile: Any) -> str:
    """A tutor who filled in profile and hours and was approved; their id."""
    me = await api.patch("/api/me/tutor", json={**PROFILE, **profile}, headers=headers)
    assert me.status_code == 200, me.text
    assert (await api.put("/api/me/availability", json=HOURS, headers=headers)).status_code == 200
    tutor_id: str = me.json()["id"]
    approved = await api.post(f"/api/admin/tutors/{tutor_id}/approve", headers=auth("admin"))
    assert approved.status_code == 200, approved.text
    return tutor_id


async def test_a_new_tutor_is_approved_then_found_and_booked_in_an_offered_slot(
    api, auth, new_tutor, clock
) -> None:  # type: ignore[no-untyped-def]
    tutor = new_tutor()
    me = (await api.get("/api/me/tutor", headers=tutor)).json()
    assert me["status"] == "pending"
    assert set(me["missing"]) == {"subjects", "levels", "hourly rate", "weekly hours"}
    refused = await api.post(f"/api/admin/tutors/{me['id']}/approve", headers=auth("admin"))
    assert (refused.status_code, refused.json()["code"]) == (409, "profile_incomplete")
    # Not bookable yet: invisible to students.
    assert (await api.get(f"/api/tutors/{me['id']}/slots", headers=auth("student"))
            ).status_code == 404

    tutor_id = await ready_tutor(api, tutor, auth)
    told = (await api.get("/api/notifications", headers=tutor)).json()
    assert [n["kind"] for n in told] == ["tutor_approved"]
    operators = (await api.get("/api/notifications", headers=auth("admin"))).json()
    assert "tutor_review" in {n["kind"] for n in operators}

    listed = (await api.get("/api/tutors?subject=chemistry", headers=auth("student"))).json()
    assert [t["id"] for t in listed["items"]] == [tutor_id]

    start = clock.now() + timedelta(days=2)
    slots = (await api.get(f"/api/tutors/{tutor_id}/slots", headers=auth("student"), params={
        "from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat(),
        "minutes": 60})).json()
    assert slots["time_zone"] == "Africa/Douala"  # the viewer's
    assert slots["slots"] and all(s.endswith("+01:00") for s in slots["slots"])
    paris = [datetime.fromisoformat(s).astimezone(ZoneInfo("Europe/Paris"))
             for s in slots["slots"]]
    assert {p.strftime("%H:%M") for p in paris} <= {"09:00", "09:30", "10:00", "10:30", "11:00"}

    booked = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": tutor_id, "subject": "Chemistry", "minutes": 60,
        "starts_at": slots["slots"][0]})
    assert booked.status_code == 201, booked.text
    after = (await api.get(f"/api/tutors/{tutor_id}/slots", headers=auth("student"), params={
        "from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()})).json()
    # The lesson and its 15-minute buffers are gone from the offer.
    assert slots["slots"][0] not in after["slots"] and slots["slots"][1] not in after["slots"]


async def test_a_booking_outside_the_hours_is_refused(api, auth, new_tutor, clock) -> None:  # type: ignore[no-untyped-def]
    tutor_id = await ready_tutor(api, new_tutor(), auth)
    night = (clock.now() + timedelta(days=3)).astimezone(ZoneInfo("Europe/Paris")).replace(
        hour=3, minute=0, second=0, microsecond=0)
    refused = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": tutor_id, "subject": "Chemistry", "minutes": 60,
        "starts_at": night.isoformat()})
    assert (refused.status_code, refused.json()["code"]) == (409, "outside_availability")
    mine = (await api.get("/api/sessions", headers=auth("student"))).json()
    assert mine["items"] == []


async def test_a_pending_tutor_cannot_be_booked_nor_quoted(api, auth, new_tutor, clock) -> None:  # type: ignore[no-untyped-def]
    tutor = new_tutor()
    me = (await api.patch("/api/me/tutor", json=PROFILE, headers=tutor)).json()
    await api.put("/api/me/availability", json=HOURS, headers=tutor)
    refused = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": me["id"], "subject": "Chemistry", "minutes": 60,
        "starts_at": (clock.now() + timedelta(days=2)).isoformat()})
    assert (refused.status_code, refused.json()["code"]) == (409, "tutor_not_bookable")
    quoted = await api.get(f"/api/tutors/{me['id']}/quote", headers=auth("student"))
    assert (quoted.status_code, quoted.json()["code"]) == (409, "tutor_not_bookable")


@pytest.mark.parametrize(("hours", "code"), [
    ({"weekly": [{"weekday": 0, "start": "09:00", "end": "12:00"},
                 {"weekday": 0, "start": "11:00", "end": "13:00"}]}, "overlapping_windows"),
    ({"weekly": [{"weekday": 0, "start": "22:00", "end": "02:00"}]}, "window_crosses_midnight"),
    ({"weekly": [], "time_zone": "Mars/Olympus"}, "invalid_time_zone"),
    ({"weekly": [{"weekday": 0, "start": "25:00", "end": "26:00"}]}, "invalid_time"),
    ({"weekly": [], "exceptions": [{"date": "2027-01-01", "available": True}]},
     "hours_required"),
    ({"weekly": [], "buffer_minutes": 999}, "invalid_buffer"),
    ({"weekly": [{"weekday": True, "start": "09:00", "end": "12:00"}]}, "invalid_request"),
    ({"weekly": [], "horizon_days": True}, "invalid_request"),
])
async def test_bad_hours_get_a_clear_4xx_and_change_nothing(
    api, auth, new_tutor, hours, code
) -> None:  # type: ignore[no-untyped-def]
    tutor = new_tutor()
    assert (await api.put("/api/me/availability", json=HOURS, headers=tutor)).status_code == 200
    before = (await api.get("/api/me/availability", headers=tutor)).json()
    refused = await api.put("/api/me/availability", json=hours, headers=tutor)
    assert refused.status_code == 422
    assert refused.json()["code"] == code
    assert refused.json()["message"]
    assert (await api.get("/api/me/availability", headers=tutor)).json() == before


@pytest.mark.parametrize(("change", "code"), [
    ({"hourly_rate_xaf": 50}, "invalid_rate"),
    ({"levels": ["kindergarten"]}, "invalid_request"),
    ({"teaching_languages": ["french"]}, "invalid_language"),
    ({"time_zone": "Nowhere/Special"}, "invalid_time_zone"),
    ({"subjects": [""]}, "invalid_subject"),
])
async def test_bad_profile_changes_are_refused_whole(api, new_tutor, change, code) -> None:  # type: ignore[no-untyped-def]
    tutor = new_tutor()
    before = (await api.get("/api/me/tutor", headers=tutor)).json()
    refused = await api.patch("/api/me/tutor", json={"bio": "changed", **change}, headers=tutor)
    assert (refused.status_code, refused.json()["code"]) == (422, code)
    assert (await api.get("/api/me/tutor", headers=tutor)).json() == before


async def test_only_tutors_have_tutor_profiles_and_only_operators_approve(api, auth) -> None:  # type: ignore[no-untyped-def]
    assert (await api.patch("/api/me/tutor", json={"bio": "x"}, headers=auth("student"))
            ).status_code == 403
    tutor_id = demo_user("tutor").id
    assert (await api.post(f"/api/admin/tutors/{tutor_id}/approve", headers=auth("tutor"))
            ).status_code == 403


async def test_the_list_filters_and_pages(api, auth, new_tutor) -> None:  # type: ignore[no-untyped-def]
    await ready_tutor(api, new_tutor("Zed Zola"), auth, teaching_languages=["fr"],
                      hourly_rate_xaf=9000)
    student = auth("student")

    async def names(**query: Any) -> list[str]:
        page = (await api.get("/api/tutors", params=query, headers=student)).json()
        return [t["full_name"] for t in page["items"]]

    assert await names() == ["Dr. Ngono", "Mrs. Fotso", "Zed Zola"]
    assert await names(level="upper_secondary") == ["Dr. Ngono", "Zed Zola"]
    assert await names(language="fr", max_rate=5000) == ["Dr. Ngono", "Mrs. Fotso"]
    assert await names(min_rate=8000) == ["Zed Zola"]
    first = (await api.get("/api/tutors", params={"limit": 2}, headers=student)).json()
    rest = (await api.get("/api/tutors", params={"limit": 2, "cursor": first["next_cursor"]},
                          headers=student)).json()
    assert [t["full_name"] for t in first["items"] + rest["items"]] == await names()
    assert rest["next_cursor"] is None
    bad = await api.get("/api/tutors", params={"level": "nursery"}, headers=student)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_level")


async def test_suspending_releases_unpaid_bookings_and_flags_paid_ones(
    api, auth, book, paid_session, rt
) -> None:  # type: ignore[no-untyped-def]
    unpaid = await book("student", hours_ahead=30)
    paid = await paid_session("student", hours_ahead=50)
    tutor_id = demo_user("tutor").id
    refused = await api.post(f"/api/admin/tutors/{tutor_id}/suspend", json={"reason": " "},
                             headers=auth("admin"))
    assert refused.status_code == 422
    done = await api.post(f"/api/admin/tutors/{tutor_id}/suspend",
                          json={"reason": "Missed three lessons."}, headers=auth("admin"))
    assert done.json()["status"] == "suspended"

    def status(s: dict[str, Any]) -> Any:
        return api.get(f"/api/sessions/{s['id']}", headers=auth("student"))

    assert (await status(unpaid)).json()["status"] == "cancelled"
    kept = (await status(paid)).json()
    assert (kept["status"], kept["meet_state"]) == ("scheduled", "ready")
    flagged = (await api.get("/api/admin/payments/flagged", headers=auth("admin"))).json()
    assert [p["flag"] for p in flagged] == ["tutor_suspended"]
    names = [t["full_name"] for t in (await api.get("/api/tutors", headers=auth("student"))
                                      ).json()["items"]]
    assert names == ["Mrs. Fotso"]
    assert (await book("student", hours_ahead=70, expect=409))["code"] == "tutor_not_bookable"
    quoted = await api.get(f"/api/tutors/{tutor_id}/quote", headers=auth("student"))
    assert (quoted.status_code, quoted.json()["code"]) == (409, "tutor_not_bookable")
    told = (await api.get("/api/notifications", headers=auth("tutor"))).json()
    assert "tutor_suspended" in {n["kind"] for n in told}
    async with rt.sessions() as db:  # the change log names the operator who did it
        logged = (await db.scalars(select(ChangeEvent).where(
            ChangeEvent.type == "tutor.suspended"))).one()
    assert logged.data["by"] == str(demo_user("admin").id)
    # Approving again reinstates them.
    again = await api.post(f"/api/admin/tutors/{tutor_id}/approve", headers=auth("admin"))
    assert again.json()["status"] == "approved"
    quoted = await api.get(f"/api/tutors/{tutor_id}/quote", headers=auth("student"))
    assert quoted.status_code == 200
