"""The booking API: create, list, approve/decline, cancel, reschedule, and no double booking."""

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, func, select, text

from prepskul.db.models import Notification, Profile, TutoringSession
from prepskul.domain.lifecycle import Status
from prepskul.domain.people import Role
from prepskul.domain.pricing import Kind
from prepskul.services.demo import demo_user


async def test_booking_a_regular_session_prices_it_and_awaits_payment(book) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", minutes=90)
    assert session["status"] == "awaiting_payment"
    assert session["price_xaf"] == 7500  # 5,000 XAF/h × 1.5 h
    assert session["time_zone"] == "Africa/Douala"
    assert session["starts_at_local"].endswith("+01:00")


async def test_the_client_cannot_set_the_price(book) -> None:  # type: ignore[no-untyped-def]
    refused = await book("student", price_xaf=1, expect=422)
    assert refused["code"] == "invalid_request"
    assert "price_xaf" in refused["message"]


async def test_a_trial_waits_for_the_tutor_who_approves_it(api, auth, book) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", kind="trial", minutes=30)
    assert (session["status"], session["price_xaf"]) == ("requested", 2000)
    by_student = await api.post(f"/api/sessions/{session['id']}/approve", headers=auth("student"))
    assert by_student.status_code == 403
    approved = await api.post(f"/api/sessions/{session['id']}/approve", headers=auth("tutor"))
    assert approved.json()["status"] == "awaiting_payment"
    again = await api.post(f"/api/sessions/{session['id']}/approve", headers=auth("tutor"))
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


async def test_declining_needs_a_reason_and_frees_the_slot(api, auth, book) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", kind="trial", minutes=60)
    url = f"/api/sessions/{session['id']}/decline"
    assert (await api.post(url, json={"reason": " "}, headers=auth("tutor"))).status_code == 422
    declined = await api.post(url, json={"reason": "I am travelling"}, headers=auth("tutor"))
    assert declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "I am travelling"
    await book("child", kind="trial", minutes=60)  # the same slot is free again


async def test_bad_bookings_get_a_clear_4xx_and_change_nothing(book, rt) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "too_soon": {"hours_ahead": 1},
        "invalid_duration": {"minutes": 90, "kind": "trial"},  # a trial lasts 30 or 60
        "subject_not_taught": {"subject": "Chemistry"},
        "tutor_not_found": {"tutor_id": "00000000-0000-4000-8000-999999999999"},
    }
    for code, overrides in cases.items():
        refused = await book("student", expect=422 if code != "tutor_not_found" else 404,
                             **overrides)
        assert refused["code"] == code
        assert refused["message"][0].isupper()
    too_long = await book("student", minutes=200, expect=422)  # beyond the documented 30-180
    assert too_long["code"] == "invalid_request" and "minutes" in too_long["message"]
    naive = await book("student", starts_at="2030-01-01T10:00:00", expect=422)
    assert "starts_at" in naive["message"]
    async with rt.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(TutoringSession)) == 0


async def test_tutors_cannot_book(book) -> None:  # type: ignore[no-untyped-def]
    refused = await book("tutor2", expect=403)
    assert refused["code"] == "cannot_book"


async def test_an_overlapping_booking_is_refused(book) -> None:  # type: ignore[no-untyped-def]
    await book("student", hours_ahead=24, minutes=60)
    refused = await book("child", hours_ahead=24.5, minutes=60, expect=409)
    assert refused["code"] == "slot_taken"
    await book("child", hours_ahead=25, minutes=60)  # touching is fine


async def test_of_concurrent_bookings_of_one_slot_exactly_one_wins(api, auth, clock) -> None:  # type: ignore[no-untyped-def]
    starts = (clock.now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    body = {"tutor_id": str(demo_user("tutor").id), "subject": "Physics",
            "starts_at": starts, "minutes": 60}
    results = await asyncio.gather(*(
        api.post("/api/sessions", json=body, headers=auth(who))
        for who in ("student", "child") * 5
    ))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 9


async def test_cancel_frees_the_slot_and_is_final(api, auth, book) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    url = f"/api/sessions/{session['id']}/cancel"
    cancelled = await api.post(url, json={"reason": "sick"}, headers=auth("student"))
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "sick"
    assert (await api.post(url, json={}, headers=auth("student"))).status_code == 409
    await book("child")  # the slot is free


async def test_reschedule_moves_the_session_and_keeps_its_length(api, auth, book, clock) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", minutes=60)
    new_start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    url = f"/api/sessions/{session['id']}/reschedule"
    moved = await api.post(url, json={"starts_at": new_start.isoformat()}, headers=auth("student"))
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.json()["starts_at"]) == new_start
    assert datetime.fromisoformat(moved.json()["ends_at"]) == new_start + timedelta(hours=1)
    longer = await api.post(url, json={"starts_at": new_start.isoformat(), "minutes": 120},
                            headers=auth("student"))
    assert longer.status_code == 422


async def test_listing_filters_and_pages(  # type: ignore[no-untyped-def]
    api, auth, book, roomy_limits
) -> None:
    ids = [(await book("student", hours_ahead=24 * (d + 1)))["id"] for d in range(5)]
    page1 = (await api.get("/api/sessions?limit=2", headers=auth("student"))).json()
    page2 = (await api.get(f"/api/sessions?limit=2&cursor={page1['next_cursor']}",
                           headers=auth("student"))).json()
    page3 = (await api.get(f"/api/sessions?limit=2&cursor={page2['next_cursor']}",
                           headers=auth("student"))).json()
    seen = [s["id"] for p in (page1, page2, page3) for s in p["items"]]
    assert seen == ids
    assert page3["next_cursor"] is None
    none = await api.get("/api/sessions?status=cancelled", headers=auth("student"))
    assert none.json()["items"] == []
    bad = await api.get("/api/sessions?status=bogus", headers=auth("student"))
    assert bad.status_code == 422
    assert (await api.get("/api/sessions?cursor=xx", headers=auth("student"))).status_code == 422


async def test_a_booking_notifies_each_person_once_in_their_language(book, rt, worker) -> None:  # type: ignore[no-untyped-def]
    await book("student")
    await worker.drain()
    await worker.drain()  # running the worker again changes nothing
    async with rt.sessions() as db:
        rows = (await db.execute(select(Notification.user_id, Notification.title))).all()
    titles = {str(user): title for user, title in rows}
    assert len(rows) == 2  # the tutor and the student (who booked)
    assert titles == {str(demo_user("tutor").id): "Séance réservée",
                      str(demo_user("student").id): "Session booked"}


async def test_unknown_routes_and_methods_answer_json(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_status_columns_load_as_domain_enums_and_store_the_same_words(
    rt: Any, book: Any
) -> None:
    """The columns speak the domain's enums in code; in the database they hold the very
    strings they always held, so SQL, the migrations and the mobile app read them as before."""
    session = await book("student", minutes=60)
    async with rt.sessions() as db:
        row = await db.get(TutoringSession, uuid.UUID(session["id"]))
        tutor = await db.get(Profile, demo_user("tutor").id)
        stored = (await db.execute(text(
            "SELECT status, kind FROM prepskul.sessions WHERE id = :id"), {"id": row.id})).one()
    assert row is not None and tutor is not None
    assert (row.status, row.kind, tutor.role) == (Status.AWAITING_PAYMENT, Kind.REGULAR, Role.TUTOR)
    assert isinstance(row.status, Status) and isinstance(tutor.role, Role)
    assert tuple(stored) == ("awaiting_payment", "regular")


async def test_listing_sessions_costs_the_same_queries_for_one_or_several(
    rt: Any, api: Any, auth: Any, book: Any, pay: Any
) -> None:
    """Each listed session shows its latest payment: read for the page at once, not per row."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        # The live hub shares the engine and reads change events whenever Postgres notifies
        # it, at any moment: those reads are not the listing's.
        if "change_events" not in args[2]:
            statements.append(args[2])

    async def queries_to_list() -> int:
        statements.clear()
        event.listen(rt.engine.sync_engine, "before_cursor_execute", count)
        try:
            listed = await api.get("/api/sessions", headers=auth("student"))
        finally:
            event.remove(rt.engine.sync_engine, "before_cursor_execute", count)
        assert all(s["payment"] for s in listed.json()["items"])
        return len(statements)

    await pay(await book("student", hours_ahead=24))
    one = await queries_to_list()
    for hours in (48, 72):  # three unpaid bookings at most
        await pay(await book("student", hours_ahead=hours))
    assert await queries_to_list() == one, statements
