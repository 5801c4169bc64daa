"""Plans and families under attack: other people's (or a sibling's) plans and invoices by
id, the wrong party acting, concurrent approvals, declines, payments, proposals of the same
times and accepts of one invitation code, and malformed proposals — each a clear 4xx with
a code, never a 500, and never a change of state."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from prepskul.db.models import Invoice, ParentLink, Payment, Plan, Profile, TimeHold
from prepskul.services.demo import demo_user
from tests.conftest import web_client
from tests.integration.test_invitations import account
from tests.integration.test_plans import TWICE_WEEKLY, act, next_monday, propose

UNKNOWN = str(uuid.uuid4())
ROUNDS = 12


async def _counts(rt: Any) -> tuple[int, int, int, int]:
    async with rt.sessions() as db:
        count = lambda model: db.scalar(select(func.count()).select_from(model))  # noqa: E731
        return (await count(Plan), await count(Invoice), await count(TimeHold),
                await count(Payment))


async def _approved(api: httpx.AsyncClient, auth: Any, clock: Any) -> tuple[dict[str, Any],
                                                                             dict[str, Any]]:
    plan = await act(api, auth, await propose(api, auth, clock), "approve", "tutor")
    return plan, plan["invoices"][0]


async def test_nobody_outside_a_plan_reads_or_acts_on_it_or_its_invoices(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    plan, invoice = await _approved(api, auth, clock)
    before = await _counts(rt)
    p, i = f"/api/plans/{plan['id']}", f"/api/invoices/{invoice['id']}"
    outsiders = ("student", "tutor2")  # an unrelated student, another tutor
    for who in outsiders:
        for method, path, body in [
            ("GET", p, None), ("GET", i, None), ("POST", f"{i}/payments", {"method": "link"}),
            ("POST", f"{p}/approve", {}), ("POST", f"{p}/decline", {"reason": "no"}),
            ("POST", f"{p}/pause", {}), ("POST", f"{p}/resume", {}),
            ("PUT", f"{p}/slots", {"slots": TWICE_WEEKLY}), ("POST", f"{p}/end", {}),
        ]:
            response = await api.request(method, path, json=body, headers=auth(who))
            assert response.status_code == 404, (who, method, path, response.text)
            assert response.json()["code"] in ("plan_not_found", "invoice_not_found")
        listed = (await api.get("/api/plans", headers=auth(who))).json()
        assert plan["id"] not in {x["id"] for x in listed}
    # The child sees their plan but neither pays, pauses, changes nor ends it;
    # the tutor neither pays nor pauses it; the payer does not approve it.
    for who, method, path, body, code in [
        ("child", "POST", f"{i}/payments", {"method": "link"}, "not_the_payer"),
        ("child", "POST", f"{p}/pause", {}, "payer_only"),
        ("child", "PUT", f"{p}/slots", {"slots": TWICE_WEEKLY}, "payer_only"),
        ("child", "POST", f"{p}/end", {}, "not_a_party"),
        ("tutor", "POST", f"{i}/payments", {"method": "link"}, "not_the_payer"),
        ("tutor", "POST", f"{p}/pause", {}, "payer_only"),
        ("parent", "POST", f"{p}/decline", {"reason": "no"}, "tutor_only"),
    ]:
        response = await api.request(method, path, json=body, headers=auth(who))
        assert (response.status_code, response.json()["code"]) == (403, code), (who, path)
    assert (await api.get(p, headers=auth("child"))).status_code == 200
    assert await _counts(rt) == before


async def test_an_unlinked_parent_no_longer_proposes_for_the_child(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    child = str(demo_user("child").id)
    assert (await api.delete(f"/api/children/{child}", headers=auth("parent"))).status_code == 204
    refused = await propose(api, auth, clock, expect=403)
    assert refused["code"] == "not_your_child"
    assert await _counts(rt) == (0, 0, 0, 0)


async def test_approve_and_decline_at_once_one_wins(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    plan = await propose(api, auth, clock)
    approve, decline = await asyncio.gather(
        api.post(f"/api/plans/{plan['id']}/approve", json={}, headers=auth("tutor")),
        api.post(f"/api/plans/{plan['id']}/decline", json={"reason": "busy"},
                 headers=auth("tutor")))
    statuses = sorted([approve.status_code, decline.status_code])
    assert statuses == [200, 409], (approve.text, decline.text)
    async with rt.sessions() as db:
        stored = (await db.scalars(select(Plan))).one()
        invoices = (await db.scalar(select(func.count()).select_from(Invoice)))
        holds = (await db.scalar(select(func.count()).select_from(TimeHold)))
    if approve.status_code == 200:
        assert stored.status == "approved" and invoices == 1 and holds > 0
    else:
        assert stored.status == "declined" and invoices == 0 and holds == 0


async def test_two_plans_for_the_same_times_approved_at_once_exactly_one_wins(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    first = await propose(api, auth, clock)
    second = await propose(api, auth, clock, who="student")  # the same times, not yet held
    answers = await asyncio.gather(*[
        api.post(f"/api/plans/{p['id']}/approve", json={}, headers=auth("tutor"))
        for p in (first, second)])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    [lost] = [a for a in answers if a.status_code == 409]
    assert lost.json()["code"] in ("slot_taken", "slot_unavailable"), lost.text
    async with rt.sessions() as db:
        holders = set((await db.scalars(select(TimeHold.plan_id))).all())
        approved = (await db.scalars(select(Plan.id).where(Plan.status == "approved"))).all()
        assert await db.scalar(select(func.count()).select_from(Invoice)) == 1
    assert holders == set(approved) and len(approved) == 1


async def test_two_payments_for_one_invoice_at_once_open_one_attempt(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    _, invoice = await _approved(api, auth, clock)
    answers = await asyncio.gather(*[
        api.post(f"/api/invoices/{invoice['id']}/payments", json={"method": "link"},
                 headers=auth("parent")) for _ in range(3)])
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["trans_id"] for a in answers}) == 1
    async with rt.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Payment)) == 1


async def test_ending_a_plan_while_paying_voids_the_invoice_and_a_new_payment_is_refused(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    plan, invoice = await _approved(api, auth, clock)
    assert (await api.post(f"/api/invoices/{invoice['id']}/payments", json={"method": "link"},
                           headers=auth("parent"))).status_code == 201
    await act(api, auth, plan, "end", "parent")
    refused = await api.post(f"/api/invoices/{invoice['id']}/payments",
                             json={"method": "link"}, headers=auth("parent"))
    assert refused.status_code == 409 and refused.json()["code"], refused.text


GOOD = {"subject": "Mathematics", "frequency": "monthly"}
SLOT = TWICE_WEEKLY[0]
BAD_PROPOSALS: dict[str, dict[str, Any]] = {
    "no slots": {"slots": []},
    "eight slots": {"slots": [{**SLOT, "weekday": d % 7, "start": f"{8 + d}:00"}
                              for d in range(8)]},
    "weekday 7": {"slots": [{**SLOT, "weekday": 7}]},
    "weekday -1": {"slots": [{**SLOT, "weekday": -1}]},
    "weekday true": {"slots": [{**SLOT, "weekday": True}]},
    "minutes true": {"slots": [{**SLOT, "minutes": True}]},
    "minutes string": {"slots": [{**SLOT, "minutes": "60"}]},
    "minutes huge": {"slots": [{**SLOT, "minutes": 2**64}]},
    "minutes float": {"slots": [{**SLOT, "minutes": 60.5}]},
    "start 24:00": {"slots": [{**SLOT, "start": "24:00"}]},
    "start 23:30 for an hour": {"slots": [{**SLOT, "start": "23:30"}]},
    "start not a time": {"slots": [{**SLOT, "start": "5pm"}]},
    "same slot twice": {"slots": [SLOT, SLOT]},
    "overlapping": {"slots": [SLOT, {**SLOT, "start": "17:30"}]},
    "mixed lengths": {"slots": [SLOT, {**TWICE_WEEKLY[1], "minutes": 90}]},
    "extra field": {"slots": TWICE_WEEKLY, "price_xaf": 1},
    "slot extra field": {"slots": [{**SLOT, "price_xaf": 1}]},
    "huge subject": {"slots": TWICE_WEEKLY, "subject": "M" * 100_000},
    "blank subject": {"slots": TWICE_WEEKLY, "subject": ""},
    "unknown subject": {"slots": TWICE_WEEKLY, "subject": "Astrology"},
    "frequency yearly": {"slots": TWICE_WEEKLY, "frequency": "yearly"},
    "frequency number": {"slots": TWICE_WEEKLY, "frequency": 28},
    "starts 30 February": {"slots": TWICE_WEEKLY, "starts_on": "2030-02-30"},
    "starts in the past": {"slots": TWICE_WEEKLY, "starts_on": "2001-01-01"},
    "starts far ahead": {"slots": TWICE_WEEKLY, "starts_on": "9999-12-31"},
    "ends before it starts": {"slots": TWICE_WEEKLY, "ends_on": "2001-01-01"},
    "starts a datetime": {"slots": TWICE_WEEKLY, "starts_on": "2030-01-01T10:00:00"},
    "tutor not a uuid": {"slots": TWICE_WEEKLY, "tutor_id": "1 OR 1=1"},
    "student not a uuid": {"slots": TWICE_WEEKLY, "student_id": 5},
    "a student's own child": {"slots": TWICE_WEEKLY, "student_id": UNKNOWN},
}


@pytest.mark.parametrize("case", sorted(BAD_PROPOSALS))
async def test_a_malformed_proposal_is_a_4xx_with_a_code_and_changes_nothing(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None, case: str
) -> None:
    body = {"tutor_id": str(demo_user("tutor").id), **GOOD,
            "starts_on": next_monday(clock.now()).isoformat(),
            "student_id": str(demo_user("child").id), **BAD_PROPOSALS[case]}
    response = await api.post("/api/plans", json=body, headers=auth("parent"))
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert response.json()["code"] and response.json()["message"], response.text
    assert await _counts(rt) == (0, 0, 0, 0)


@pytest.mark.parametrize("who", ["tutor", "tutor2", "admin"])
async def test_only_a_student_or_a_parent_proposes(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None, who: str
) -> None:
    body = {"tutor_id": str(demo_user("tutor").id), **GOOD, "slots": TWICE_WEEKLY,
            "starts_on": next_monday(clock.now()).isoformat()}
    response = await api.post("/api/plans", json=body, headers=auth(who))
    assert response.status_code == 403, response.text
    assert await _counts(rt) == (0, 0, 0, 0)


@pytest.mark.parametrize(("action", "body"), [
    ("slots", {"slots": []}), ("slots", {"slots": [{**SLOT, "weekday": 9}]}),
    ("slots", {"slots": [SLOT, SLOT]}), ("end", {"ends_on": "2001-01-01"}),
    ("end", {"ends_on": "9999-12-31"}), ("end", {"ends_on": "not a day"}),
    ("end", {"ends_on": 20300101}),
], ids=repr)
async def test_impossible_new_times_or_end_change_nothing(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None, action: str,
    body: dict[str, Any],
) -> None:
    plan, _ = await _approved(api, auth, clock)
    before = await _counts(rt)
    response = await api.request("PUT" if action == "slots" else "POST",
                                 f"/api/plans/{plan['id']}/{action}", json=body,
                                 headers=auth("parent"))
    assert response.status_code == 422 and response.json()["code"], response.text
    assert await _counts(rt) == before
    async with rt.sessions() as db:
        stored = await db.get(Plan, uuid.UUID(plan["id"]))
        assert (stored.status, stored.next_slots, stored.end_date) == ("approved", None, None)


async def test_a_child_does_not_see_a_siblings_plan(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    sibling = (await api.post("/api/children", json={"full_name": "Bibi"},
                              headers=auth("parent"))).json()
    plan = await propose(api, auth, clock, student_id=sibling["id"])
    assert (await api.get(f"/api/plans/{plan['id']}", headers=auth("child"))).status_code == 404
    assert (await api.get("/api/plans", headers=auth("child"))).json() == []
    assert (await api.get(f"/api/plans/{plan['id']}", headers=auth("parent"))).status_code == 200


async def test_two_accounts_accepting_one_code_at_once_link_exactly_one(
    api: httpx.AsyncClient, auth: Any, rt: Any
) -> None:
    learner = (await api.post("/api/children", json={"full_name": "Bibi"},
                              headers=auth("parent"))).json()
    code = (await api.post("/api/invitations", json={"child_id": learner["id"]},
                           headers=auth("parent"))).json()["code"]
    accounts = [account(), account()]
    answers = await asyncio.gather(*[
        api.post("/api/invitations/accept", json={"code": code}, headers=headers)
        for _, headers in accounts])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert {a.json().get("code") for a in answers} >= {"invitation_used"}
    async with rt.sessions() as db:
        taken = (await db.get(Profile, uuid.UUID(learner["id"]))).merged_into_id
        linked = set((await db.scalars(select(ParentLink.student_id).where(
            ParentLink.parent_id == demo_user("parent").id, ParentLink.active()))).all())
    [winner] = [sub for (sub, _), a in zip(accounts, answers, strict=True)
                if a.status_code == 200]
    assert taken == winner and winner in linked
    assert not {sub for sub, _ in accounts} - {winner} & linked


@pytest.mark.parametrize("form", [
    {"start": "99:99"}, {"start": "17:0"}, {"minutes": "abc"}, {"minutes": "1e9"},
    {"weekdays": ["9"]}, {"weekdays": ["-1"]}, {"weekdays": [str(2**64)]}, {"weekdays": []},
    {"frequency": "yearly"}, {"starts_on": "2030-02-30"}, {"starts_on": "2001-01-01"},
    {"student_id": "not-a-uuid"}, {"student_id": UNKNOWN}, {"subject": "M" * 81},
], ids=repr)
async def test_a_malformed_plan_form_is_refused_and_changes_nothing(
    settings: Any, clock: Any, rt: Any, roomy_limits: None, form: dict[str, Any]
) -> None:
    fields = {"csrf": "t", "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
              "start": "17:00", "minutes": "60", "frequency": "monthly",
              "starts_on": next_monday(clock.now()).isoformat(),
              "student_id": str(demo_user("child").id), "weekdays": ["1"], **form}
    async with web_client(settings, "parent") as browser:
        response = await browser.post("/plans", data=fields)
    assert response.status_code in (303, 422), response.text
    assert await _counts(rt) == (0, 0, 0, 0)


async def test_paying_with_credit_when_the_times_were_taken_is_refused_and_keeps_nothing(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None
) -> None:
    from prepskul.domain.ledger import OUTSIDE, transfer
    from prepskul.services import ledger, money
    from tests.integration.money_checks import assert_ledger_sound, balance

    parent = demo_user("parent").id
    async with rt.sessions.begin() as db:  # enough credit for the whole invoice
        movement = transfer("test-credit", "collect", OUTSIDE, {money.credit(parent): 100_000})
        assert movement is not None
        await ledger.post(db, movement, now=clock.now(), session_id=None)
    plan, invoice = await _approved(api, auth, clock)
    async with rt.sessions.begin() as db:  # the times released (as a lapse does) …
        await db.execute(TimeHold.__table__.delete().where(
            TimeHold.plan_id == uuid.UUID(plan["id"])))
    taken = await api.post("/api/sessions", headers=auth("student"), json={  # … and taken
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "starts_at": invoice["lessons"][0][0], "minutes": 60})
    assert taken.status_code == 201, taken.text
    before = await _counts(rt)
    for _ in range(2):  # refused, and refused again the same way (once a 500)
        refused = await api.post(f"/api/invoices/{invoice['id']}/payments",
                                 json={"method": "link"}, headers=auth("parent"))
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "slot_taken"
        assert await _counts(rt) == before  # no payment, no booking
        assert await balance(rt, "credit", parent) == 100_000  # the credit untouched
    await assert_ledger_sound(rt)


@pytest.mark.parametrize("action", ["end", "pay"])
async def test_paying_and_ending_or_paying_at_once_never_deadlock(
    api: httpx.AsyncClient, auth: Any, clock: Any, rt: Any, roomy_limits: None, action: str
) -> None:
    """Paying locks the plan before its invoice, as ending, pausing and billing do: the
    other order let a payment and an end wait on each other until Postgres killed one."""
    for r in range(4):
        slots = [{"weekday": 1, "start": f"{8 + 2 * r:02d}:00", "minutes": 60}]
        plan = await act(api, auth, await propose(api, auth, clock, slots=slots), "approve",
                         "tutor")
        pay = api.post(f"/api/invoices/{plan['invoices'][0]['id']}/payments",
                       json={"method": "link"}, headers=auth("parent"))
        other = api.post(f"/api/plans/{plan['id']}/end", json={}, headers=auth("parent")) \
            if action == "end" else api.post(
                f"/api/invoices/{plan['invoices'][0]['id']}/payments",
                json={"method": "link"}, headers=auth("parent"))
        answers = await asyncio.gather(pay, other)
        assert all(a.status_code < 500 for a in answers), [a.text for a in answers]


@pytest.mark.parametrize("other", ["invite", "unlink"])
async def test_accepting_a_code_while_the_parent_acts_on_the_learner_never_deadlocks(
    api: httpx.AsyncClient, auth: Any, rt: Any, roomy_limits: None, other: str
) -> None:
    """Accepting locks the learner before the code, as a new code and an unlink do."""
    for _ in range(ROUNDS):
        learner = (await api.post("/api/children", json={"full_name": "Bibi"},
                                  headers=auth("parent"))).json()
        code = (await api.post("/api/invitations", json={"child_id": learner["id"]},
                               headers=auth("parent"))).json()["code"]
        acting = api.post("/api/invitations", json={"child_id": learner["id"]},
                          headers=auth("parent")) if other == "invite" else api.delete(
            f"/api/children/{learner['id']}", headers=auth("parent"))
        answers = await asyncio.gather(
            api.post("/api/invitations/accept", json={"code": code},
                     headers=account()[1]), acting)
        assert all(a.status_code < 500 for a in answers), [a.text for a in answers]
