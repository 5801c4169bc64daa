"""Regular lessons on a plan, through the public API alone: proposed, approved, invoiced,
paid with the fake Fapshi checkout, booked with Meet links; an invoice left unpaid past
its grace pauses the plan and frees its times."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from prepskul.db.models import TimeHold
from prepskul.services.demo import demo_user

DOUALA = ZoneInfo("Africa/Douala")
TWICE_WEEKLY = [{"weekday": 1, "start": "17:00", "minutes": 60},
                {"weekday": 3, "start": "17:00", "minutes": 60}]


def next_monday(now: datetime, weeks: int = 1) -> date:
    today = now.astimezone(DOUALA).date()
    return today + timedelta(days=7 * weeks - today.weekday())


async def propose(api: httpx.AsyncClient, auth: Any, clock: Any, *, who: str = "parent",
                  expect: int = 201, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "slots": TWICE_WEEKLY, "frequency": "monthly",
        "starts_on": next_monday(clock.now()).isoformat(),
        "student_id": str(demo_user("child").id), **extra}
    if who != "parent":
        body.pop("student_id")
    response = await api.post("/api/plans", json=body, headers=auth(who))
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def act(api: httpx.AsyncClient, auth: Any, plan: dict[str, Any], action: str,
              who: str, expect: int = 200, **body: Any) -> dict[str, Any]:
    response = await api.post(f"/api/plans/{plan['id']}/{action}", json=body,
                              headers=auth(who))
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def read(api: httpx.AsyncClient, auth: Any, plan: dict[str, Any], who: str = "parent"
               ) -> dict[str, Any]:
    result: dict[str, Any] = (await api.get(f"/api/plans/{plan['id']}",
                                            headers=auth(who))).json()
    return result


async def pay_invoice(api: httpx.AsyncClient, auth: Any, invoice: dict[str, Any],
                      who: str = "parent", expect: int = 201, **body: Any) -> dict[str, Any]:
    response = await api.post(f"/api/invoices/{invoice['id']}/payments",
                              json=body or {"method": "link"}, headers=auth(who))
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def plan_sessions(api: httpx.AsyncClient, auth: Any, who: str = "parent"
                        ) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get("/api/sessions", headers=auth(who),
                                                 params={"limit": 200})).json()["items"]
    return items


async def reserved(rt: Any) -> int:
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(TimeHold)
                                   .where(TimeHold.purpose == "plan")) or 0)


async def test_a_parent_pays_a_monthly_plan_and_an_unpaid_invoice_pauses_it(
    api, auth, clock, checkout, worker, rt, sandbox, book,
) -> None:  # type: ignore[no-untyped-def]
    plan = await propose(api, auth, clock)
    assert plan["status"] == "proposed" and plan["invoices"] == []
    plan = await act(api, auth, plan, "approve", "tutor")
    assert plan["status"] == "approved"
    [first] = plan["invoices"]
    # 8 lessons of 5000 XAF, 10 % off for paying monthly
    assert (len(first["lessons"]), first["lesson_price_xaf"], first["total_xaf"]) == (
        8, 4500, 36000)
    assert first["status"] == "open"
    # The plan's times are the tutor's no longer: nobody else can book them.
    lesson_start = datetime.fromisoformat(first["lessons"][0][0])
    taken = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "starts_at": lesson_start.isoformat(), "minutes": 60})
    assert taken.status_code == 409 and taken.json()["code"] == "slot_taken"

    payment = await pay_invoice(api, auth, first)
    assert payment["amount_xaf"] == 36000
    assert (await pay_invoice(api, auth, first))["trans_id"] == payment["trans_id"]
    await checkout(payment)
    await worker.drain()

    sessions = await plan_sessions(api, auth)
    assert len(sessions) == 8
    assert {s["status"] for s in sessions} == {"scheduled"}
    assert all(s["meet_link"] for s in sessions)
    assert {datetime.fromisoformat(s["starts_at"]) for s in sessions} == {
        datetime.fromisoformat(x[0]) for x in first["lessons"]}
    assert len(sandbox.calendar.events) == 8
    plan = await read(api, auth, plan)
    assert plan["status"] == "active" and plan["invoices"][0]["status"] == "paid"

    # A week before the second period the next invoice is issued; nobody pays it.
    second_period = date.fromisoformat(plan["start_date"]) + timedelta(days=28)
    clock.set(datetime.combine(second_period - timedelta(days=7), datetime.min.time(),
                               DOUALA) + timedelta(hours=9))
    await worker.drain()
    plan = await read(api, auth, plan)
    second = plan["invoices"][1]
    assert second["status"] == "open" and len(second["lessons"]) == 8
    held_before = await reserved(rt)
    assert held_before > 0

    # The payer is reminded two days, one day and two hours before it is due.
    due = datetime.fromisoformat(second["due_at"])
    for lead in (timedelta(days=2), timedelta(days=1), timedelta(hours=2)):
        clock.set(due - lead + timedelta(minutes=1))
        await worker.drain()
    reminders = [n for n in (await api.get("/api/notifications", headers=auth("parent"))).json()
                 if n["kind"] == "invoice_reminder"]
    assert len(reminders) == 3
    # Paul Parent reads French: "36000 XAF pour 8 cours, échéance le …"
    assert {r["title"] for r in reminders} == {"Facture bientôt due"}
    assert "XAF pour 8 cours, échéance le" in reminders[0]["body"]
    assert (await read(api, auth, plan))["status"] == "active"

    # Past its due date and the grace, the plan pauses and its times are free again.
    clock.set(datetime.fromisoformat(second["due_at"]) + timedelta(
        hours=rt.settings.plan_grace_hours, minutes=1))
    await worker.drain()
    plan = await read(api, auth, plan)
    assert (plan["status"], plan["pause_reason"]) == ("paused", "unpaid")
    assert plan["invoices"][1]["status"] == "overdue"
    assert await reserved(rt) == 0
    later = datetime.fromisoformat(plan["invoices"][1]["lessons"][-1][0])
    free = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "starts_at": later.isoformat(), "minutes": 60})
    assert free.status_code == 201, free.text
    # Both sides were told, the payer reminded before it fell due.
    kinds = {n["kind"] for n in (await api.get("/api/notifications",
                                               headers=auth("parent"))).json()}
    assert {"invoice_issued", "invoice_reminder", "plan_paused_unpaid"} <= kinds
    tutor_kinds = {n["kind"] for n in (await api.get("/api/notifications",
                                                     headers=auth("tutor"))).json()}
    assert "plan_paused_unpaid" in tutor_kinds
    # The first period's lessons (held by now) are untouched: nothing cancelled or added.
    after = await plan_sessions(api, auth)
    assert len(after) == 8 and not {s["status"] for s in after} & {"cancelled", "expired"}


async def plan_count(rt: Any) -> int:
    from prepskul.db.models import Plan

    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Plan)) or 0)


async def test_bad_proposals_are_refused_clearly_and_change_nothing(
    api, auth, clock, rt, book,
) -> None:  # type: ignore[no-untyped-def]
    start = next_monday(clock.now())
    cases = [
        ({"slots": [{"weekday": 1, "start": "17:00", "minutes": 60},
                    {"weekday": 1, "start": "17:30", "minutes": 60}]}, 422, "overlapping_slots"),
        ({"slots": [{"weekday": 1, "start": "17:00", "minutes": 60},
                    {"weekday": 3, "start": "17:00", "minutes": 90}]}, 422, "mixed_lengths"),
        ({"slots": [{"weekday": 1, "start": "25:00", "minutes": 60}]}, 422, None),
        ({"frequency": "daily"}, 422, None),
        ({"subject": "Chemistry"}, 422, "subject_not_taught"),
        ({"starts_on": (start - timedelta(days=30)).isoformat()}, 422, "start_in_past"),
        ({"starts_on": "9999-12-01"}, 422, "start_too_far"),
        ({"ends_on": "9999-12-31"}, 422, "plan_too_long"),
        ({"student_id": str(demo_user("student").id)}, 403, "not_your_child"),
        ({"tutor_id": "00000000-0000-4000-8000-000000000999"}, 404, None),
    ]
    for extra, status, code in cases:
        refused = await propose(api, auth, clock, expect=status, **extra)
        assert code is None or refused["code"] == code, (extra, refused)
        assert refused["message"]
    assert await plan_count(rt) == 0


async def test_a_conflict_is_found_at_proposal_time_and_names_the_lesson(
    api, auth, clock, rt,
) -> None:  # type: ignore[no-untyped-def]
    start = next_monday(clock.now())
    tuesday = datetime.combine(start + timedelta(days=8), datetime.min.time(), DOUALA
                               ).replace(hour=17)
    booked = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "starts_at": tuesday.isoformat(), "minutes": 60})
    assert booked.status_code == 201
    refused = await propose(api, auth, clock, expect=409)
    assert refused["code"] == "slot_taken" and tuesday.strftime("%Y-%m-%d 17:00") in \
        refused["message"]
    assert await plan_count(rt) == 0


async def test_only_the_right_people_move_a_plan_and_illegal_moves_are_refused(
    api, auth, clock, rt,
) -> None:  # type: ignore[no-untyped-def]
    plan = await propose(api, auth, clock)
    assert (await act(api, auth, plan, "approve", "parent", expect=403))["code"] == "tutor_only"
    assert (await act(api, auth, plan, "approve", "tutor2", expect=404))["code"] == \
        "plan_not_found"
    assert (await act(api, auth, plan, "pause", "parent", expect=409))["code"] == \
        "illegal_plan_transition"
    assert (await act(api, auth, plan, "decline", "tutor", expect=422, reason=" "))["code"] \
        == "reason_required"
    plan = await act(api, auth, plan, "approve", "tutor")
    again = await act(api, auth, plan, "approve", "tutor", expect=409)
    assert again["code"] == "illegal_plan_transition"
    invoice = plan["invoices"][0]
    assert (await pay_invoice(api, auth, invoice, who="student", expect=404))["code"] == \
        "invoice_not_found"
    assert (await pay_invoice(api, auth, invoice, expect=422, method="direct",
                              phone="123"))["code"] == "invalid_phone"
    assert (await read(api, auth, plan))["invoices"][0]["payment"] is None


async def test_pause_resume_and_new_times_from_the_next_period(
    api, auth, clock, rt, checkout, worker,
) -> None:  # type: ignore[no-untyped-def]
    plan = await propose(api, auth, clock)
    plan = await act(api, auth, plan, "approve", "tutor")
    await checkout(await pay_invoice(api, auth, plan["invoices"][0]))
    await worker.drain()
    plan = await act(api, auth, plan, "pause", "parent")
    assert plan["status"] == "paused" and await reserved(rt) == 0
    assert len(await plan_sessions(api, auth)) == 8  # paid lessons stay booked
    plan = await act(api, auth, plan, "resume", "parent")
    assert plan["status"] == "active" and await reserved(rt) > 0
    response = await api.put(f"/api/plans/{plan['id']}/slots", headers=auth("parent"), json={
        "slots": [{"weekday": 0, "start": "16:00", "minutes": 60},
                  {"weekday": 2, "start": "16:00", "minutes": 60}]})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["next_slots_from"] == 1 and changed["slots"] == plan["slots"]
    second_period = date.fromisoformat(plan["start_date"]) + timedelta(days=28)
    clock.set(datetime.combine(second_period - timedelta(days=6), datetime.min.time(),
                               DOUALA))
    await worker.drain()
    second = (await read(api, auth, plan))["invoices"][1]
    local = {datetime.fromisoformat(s).astimezone(DOUALA).strftime("%a %H:%M")
             for s, _ in second["lessons"]}
    assert local == {"Mon 16:00", "Wed 16:00"}
    ended = await act(api, auth, plan, "end", "parent")
    assert ended["status"] == "ended" and await reserved(rt) == 0
    assert ended["invoices"][1]["status"] == "void"
    # The two paid lessons still ahead are cancelled by the policy the plan recorded: the
    # one 17 h ahead is a late cancellation (half back), the one 65 h ahead comes back whole.
    cancelled = [s for s in await plan_sessions(api, auth) if s["status"] == "cancelled"]
    assert len(cancelled) == 2
    from tests.integration.money_checks import assert_ledger_sound, balance

    assert await balance(rt, "credit", demo_user("parent").id) == 4500 // 2 + 4500
    await assert_ledger_sound(rt)


async def test_credit_pays_part_of_an_invoice_and_every_franc_lands_on_a_lesson(
    api, auth, clock, rt, checkout, worker,
) -> None:  # type: ignore[no-untyped-def]
    from prepskul.domain.ledger import OUTSIDE, transfer
    from prepskul.services import ledger, money
    from tests.integration.money_checks import assert_ledger_sound, balance

    parent = demo_user("parent").id
    async with rt.sessions.begin() as db:  # credit from an earlier refund
        movement = transfer("test-credit", "collect", OUTSIDE, {money.credit(parent): 10_000})
        assert movement is not None
        await ledger.post(db, movement, now=clock.now(), session_id=None)
    plan = await act(api, auth, await propose(api, auth, clock), "approve", "tutor")
    invoice = plan["invoices"][0]
    payment = await pay_invoice(api, auth, invoice)
    assert payment["amount_xaf"] == invoice["total_xaf"] - 10_000
    await checkout(payment)
    await worker.drain()
    sessions = await plan_sessions(api, auth)
    assert len(sessions) == 8
    for session in sessions:  # each lesson's money waits in its own clearing account
        assert await balance(rt, "clearing", session["id"]) == invoice["lesson_price_xaf"]
    assert await balance(rt, "clearing", invoice["id"]) == 0
    assert await balance(rt, "credit", parent) == 0
    await assert_ledger_sound(rt)


async def test_a_period_void_by_a_pause_is_skipped_and_its_times_stay_free(
    api, auth, clock, rt, checkout, worker,
) -> None:  # type: ignore[no-untyped-def]
    from prepskul.db.models import TimeHold

    plan = await act(api, auth, await propose(api, auth, clock), "approve", "tutor")
    await checkout(await pay_invoice(api, auth, plan["invoices"][0]))
    await worker.drain()
    second_period = date.fromisoformat(plan["start_date"]) + timedelta(days=28)
    clock.set(datetime.combine(second_period - timedelta(days=7), datetime.min.time(),
                               DOUALA) + timedelta(hours=9))
    await worker.drain()
    plan = await act(api, auth, plan, "pause", "parent")
    assert plan["invoices"][1]["status"] == "void"
    skipped = datetime.fromisoformat(plan["invoices"][1]["lessons"][0][0])
    taken = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "starts_at": skipped.isoformat(), "minutes": 60})
    assert taken.status_code == 201  # the skipped period's time is anyone's now
    plan = await act(api, auth, plan, "resume", "parent")  # and does not block the resume
    async with rt.sessions() as db:
        first_reserved = await db.scalar(select(func.min(TimeHold.starts_at)).where(
            TimeHold.purpose == "plan"))
    third_period = datetime.combine(second_period + timedelta(days=28), datetime.min.time(),
                                    DOUALA)
    assert first_reserved is not None and first_reserved >= third_period


async def test_a_second_child_s_plan_is_invoiced_with_the_sibling_discount(
    api, auth, clock, checkout, worker
) -> None:  # type: ignore[no-untyped-def]
    first = await act(api, auth, await propose(api, auth, clock), "approve", "tutor")
    assert first["invoices"][0]["sibling_discount_xaf"] == 0  # the first child pays in full
    added = await api.post("/api/children", headers=auth("parent"),
                           json={"full_name": "Bih Second", "level": "lower_secondary"})
    assert added.status_code == 201, added.text
    async def second_plan_invoice(start: str) -> dict[str, Any]:
        slots = [{**slot, "start": start} for slot in TWICE_WEEKLY]
        plan = await act(api, auth, await propose(
            api, auth, clock, slots=slots, student_id=added.json()["id"]), "approve", "tutor")
        invoice: dict[str, Any] = plan["invoices"][0]
        return invoice

    # The first child's plan is approved but not paid for: no discount yet (an unpaid or
    # paused plan for a made-up child must not discount the others).
    assert (await second_plan_invoice("18:30"))["sibling_discount_xaf"] == 0
    await checkout(await pay_invoice(api, auth, first["invoices"][0]))
    await worker.drain()
    assert (await read(api, auth, first))["status"] == "active"
    invoice = await second_plan_invoice("19:45")
    # 5000 XAF a lesson, 10 % off monthly = 4500, then 15 % off for the second child = 3825
    assert (invoice["lesson_price_xaf"], invoice["sibling_discount_xaf"],
            invoice["total_xaf"]) == (3825, 8 * 675, 8 * 3825)
