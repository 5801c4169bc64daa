"""The security review, executable: who may call what (role × endpoint ⇒ status, for every
operation in the OpenAPI document), secrets that never leak, and secret comparisons that
take constant time."""

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from prepskul.db.models import WebhookEvent
from prepskul.services.demo import demo_user
from tests.conftest import FAPSHI_SECRET, FATHOM_SECRET, JWT_SECRET
from tests.integration.test_fathom_webhook import meeting, signed
from tests.integration.test_plans import next_monday

ROLES = ("anon", "outsider", "student", "tutor", "admin")  # outsider: an unrelated student
# A parent is asked too where a rule names one (the families' routes): after the others.
ASKED = (*ROLES, "parent")
ANY = {"anon": 200, "outsider": 200, "student": 200, "tutor": 200, "admin": 200}
SIGNED_IN = {**ANY, "anon": 401}
PARTICIPANTS = {**SIGNED_IN, "outsider": 404}
OPERATORS = {"anon": 401, "outsider": 403, "student": 403, "tutor": 403, "admin": 200}
TUTOR_ONLY = {**OPERATORS, "tutor": 200, "admin": 403}
PARENTS = {"anon": 401, "outsider": 403, "student": 403, "tutor": 403, "admin": 403}
CHILD = "00000000-0000-4000-8000-000000000005"  # the demo parent's child (has an account)
ALL_HOURS = {"weekly": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]}
UNKNOWN = str(uuid.uuid4())
OTHERS_PLAN = {**PARTICIPANTS, "parent": 404}
SUNDAY = 6  # plans' lessons on Sundays two weeks ahead, clear of the sessions booked here

# (method, path) ⇒ (body or None, expected status per role)
TABLE: dict[tuple[str, str], tuple[Any, dict[str, int]]] = {
    ("GET", "/healthz"): (None, ANY),
    ("GET", "/readyz"): (None, ANY),
    ("GET", "/metrics"): (None, ANY),
    ("GET", "/api/me"): (None, SIGNED_IN),
    ("PATCH", "/api/me"): ({}, SIGNED_IN),
    ("GET", "/api/tutors"): (None, SIGNED_IN),
    ("GET", "/api/tutors/{tutor_id}/quote"): (None, SIGNED_IN),
    ("GET", "/api/tutors/{tutor_id}"): (None, SIGNED_IN),
    ("GET", "/api/tutors/{tutor_id}/slots"): (None, SIGNED_IN),
    ("GET", "/api/me/tutor"): (None, TUTOR_ONLY),
    ("PATCH", "/api/me/tutor"): ({}, TUTOR_ONLY),
    ("GET", "/api/me/availability"): (None, TUTOR_ONLY),
    ("PUT", "/api/me/availability"): (ALL_HOURS, TUTOR_ONLY),
    ("GET", "/api/admin/tutors"): (None, OPERATORS),
    ("POST", "/api/admin/tutors/{tutor_id}/approve"): (None, {**OPERATORS, "admin": 409}),
    ("POST", "/api/admin/tutors/{tutor_id}/suspend"): ({"reason": "x"}, OPERATORS),
    ("GET", "/api/sessions"): (None, SIGNED_IN),
    ("POST", "/api/sessions"): ("booking", {**SIGNED_IN, "outsider": 201, "student": 201,
                                            "tutor": 403, "admin": 403}),
    ("GET", "/api/sessions/{session_id}"): (None, PARTICIPANTS),
    ("POST", "/api/sessions/{session_id}/approve"): (
        {}, {**PARTICIPANTS, "student": 403, "tutor": 409, "admin": 409}),
    ("POST", "/api/sessions/{session_id}/decline"): (
        {"reason": "busy"}, {**PARTICIPANTS, "student": 403, "tutor": 409, "admin": 409}),
    ("POST", "/api/sessions/{session_id}/cancel"): ({"reason": "ill"}, PARTICIPANTS),
    ("POST", "/api/sessions/{session_id}/reschedule"): ("move", PARTICIPANTS),
    ("GET", "/api/sessions/{session_id}/proposals"): (None, PARTICIPANTS),
    ("POST", "/api/sessions/{session_id}/proposals"): (
        "move", {**PARTICIPANTS, "student": 201, "tutor": 201, "admin": 422}),
    ("POST", "/api/sessions/{session_id}/proposals/{proposal_id}/accept"): (
        None, {**PARTICIPANTS, "student": 404, "tutor": 404, "admin": 404}),
    ("POST", "/api/sessions/{session_id}/proposals/{proposal_id}/decline"): (
        None, {**PARTICIPANTS, "student": 404, "tutor": 404, "admin": 404}),
    ("POST", "/api/sessions/{session_id}/payments"): (
        {"method": "link"}, {**PARTICIPANTS, "student": 201, "tutor": 403, "admin": 201}),
    ("GET", "/api/sessions/{session_id}/recording"): (None, {**PARTICIPANTS, "student": 404,
                                                              "tutor": 404, "admin": 404}),
    ("PATCH", "/api/action-items/{item_id}"): (
        {"done": True}, {**SIGNED_IN, "outsider": 404, "student": 404, "tutor": 404,
                         "admin": 404}),
    ("GET", "/api/admin/webhooks"): (None, OPERATORS),
    ("POST", "/api/admin/webhooks/{event_id}/replay"): (None, {**OPERATORS, "admin": 404}),
    ("GET", "/api/admin/jobs"): (None, OPERATORS),
    ("POST", "/api/admin/jobs/{job_id}/replay"): (None, {**OPERATORS, "admin": 409}),
    ("DELETE", "/api/admin/jobs/{job_id}"): (None, {**OPERATORS, "admin": 409}),
    ("GET", "/api/admin/payments/flagged"): (None, OPERATORS),
    ("GET", "/api/admin/sessions/attention"): (None, OPERATORS),
    ("GET", "/api/admin/recordings/unassigned"): (None, OPERATORS),
    ("POST", "/api/admin/recordings/{recording_id}/assign"): (
        "assign", {**OPERATORS, "admin": 404}),
    # After the lesson, on a session still awaiting payment: no lesson to act on yet.
    ("POST", "/api/sessions/{session_id}/join"): (
        None, {**PARTICIPANTS, "student": 409, "tutor": 409, "admin": 403}),
    ("POST", "/api/sessions/{session_id}/report"): (
        {"topic": "Fractions", "learner_present": True},
        {**PARTICIPANTS, "student": 403, "tutor": 409, "admin": 403}),
    ("GET", "/api/sessions/{session_id}/outcome"): (None, PARTICIPANTS),
    ("POST", "/api/sessions/{session_id}/confirm"): (
        None, {**PARTICIPANTS, "student": 409, "tutor": 403, "admin": 403}),
    ("POST", "/api/sessions/{session_id}/problem"): (
        {"problem": "no tutor"}, {**PARTICIPANTS, "student": 409, "tutor": 409, "admin": 403}),
    ("POST", "/api/sessions/{session_id}/review"): (
        {"rating": 4}, {**PARTICIPANTS, "student": 409, "tutor": 403, "admin": 403}),
    ("POST", "/api/sessions/{session_id}/review/reply"): (
        {"reply": "Merci"}, {**PARTICIPANTS, "student": 403, "tutor": 404, "admin": 403}),
    ("GET", "/api/tutors/{tutor_id}/reviews"): (None, SIGNED_IN),
    ("GET", "/api/admin/outcomes/awaiting"): (None, OPERATORS),
    ("POST", "/api/admin/sessions/{session_id}/outcome"): (
        {"outcome": "completed", "reason": "seen the recording"}, {**OPERATORS, "admin": 409}),
    ("GET", "/api/admin/flags"): (None, OPERATORS),
    ("POST", "/api/admin/flags/{flag_id}/resolve"): (
        {"resolution": "dismissed", "note": "a math answer"}, {**OPERATORS, "admin": 404}),
    ("POST", "/api/admin/reviews/{review_id}/hide"): (
        {"reason": "insults"}, {**OPERATORS, "admin": 404}),
    ("POST", "/api/webhooks/fapshi"): ({"transId": "ABCDEFGH", "status": "SUCCESSFUL"},
                                       dict.fromkeys(ROLES, 401)),  # no secret: refused
    ("POST", "/api/webhooks/fathom"): ({"recording_id": 1}, dict.fromkeys(ROLES, 401)),
    ("GET", "/api/events"): (None, SIGNED_IN),
    ("GET", "/api/notifications"): (None, SIGNED_IN),
    ("POST", "/api/notifications/{notification_id}/read"): (
        None, {**SIGNED_IN, "outsider": 404, "student": 404, "tutor": 404, "admin": 404}),
    ("POST", "/api/notifications/read-all"): (None, SIGNED_IN),
    ("POST", "/api/sandbox/sessions/{session_id}/lesson"): (
        None, {**PARTICIPANTS, "student": 409, "tutor": 409, "admin": 409}),
    ("GET", "/api/sessions/{session_id}/cancellation"): (None, PARTICIPANTS),
    ("GET", "/api/me/balance"): (None, SIGNED_IN),
    ("GET", "/api/me/statement.csv"): (None, SIGNED_IN),
    ("GET", "/api/payouts"): (None, SIGNED_IN),
    ("POST", "/api/payouts"): ({"amount_xaf": 5000, "phone": "670000000"},
                               {**dict.fromkeys(ROLES, 422), "anon": 401}),  # nothing to pay
    ("POST", "/api/admin/payouts/{payout_id}/approve"): ({}, {**OPERATORS, "admin": 404}),
    ("POST", "/api/admin/payouts/{payout_id}/reject"): (
        {"reason": "no"}, {**OPERATORS, "admin": 404}),
    ("GET", "/api/admin/refunds"): (None, OPERATORS),
    ("POST", "/api/admin/refunds/{payment_id}"): (
        {"action": "credit", "reason": "asked"}, {**OPERATORS, "admin": 404}),
    ("POST", "/api/admin/earnings/{session_id}/hold"): (
        {"reason": "dispute"}, {**OPERATORS, "admin": 404}),
    ("POST", "/api/admin/earnings/{session_id}/release"): (
        {"reason": "resolved"}, {**OPERATORS, "admin": 404}),
    ("GET", "/api/admin/money/daily"): (None, OPERATORS),
    ("GET", "/api/admin/money/audit"): (None, OPERATORS),
    # Families: a parent's children (the demo child, linked with an account of their own).
    ("GET", "/api/children"): (None, {**PARENTS, "parent": 200}),
    ("POST", "/api/children"): ({"full_name": "Bibi"}, {**PARENTS, "parent": 201}),
    ("GET", "/api/children/{child_id}"): (None, {**PARENTS, "parent": 200}),
    ("PATCH", "/api/children/{child_id}"): ({"level": "primary"}, {**PARENTS, "parent": 409}),
    ("DELETE", "/api/children/{child_id}"): (None, {**PARENTS, "parent": 204}),
    ("POST", "/api/invitations"): ({}, {**PARENTS, "parent": 201}),
    ("POST", "/api/invitations/accept"): (  # an unknown code, for everyone signed in
        {"code": "AAAAA-AAAAA"}, {**dict.fromkeys(ASKED, 404), "anon": 401}),
    # Plans: the student's own, proposed (to approve or decline) or approved with its first
    # invoice open; the demo parent and child ("outsider") are strangers to it.
    ("GET", "/api/plans"): (None, {**SIGNED_IN, "parent": 200}),
    ("POST", "/api/plans"): ("plan", {**SIGNED_IN, "outsider": 201, "student": 201,
                                      "tutor": 403, "admin": 403, "parent": 422}),
    ("GET", "/api/plans/{plan_id}"): (None, OTHERS_PLAN),
    ("POST", "/api/plans/{plan_id}/approve"): ("proposed", {
        **OTHERS_PLAN, "student": 403, "tutor": 200, "admin": 200}),
    ("POST", "/api/plans/{plan_id}/decline"): ("declined", {
        **OTHERS_PLAN, "student": 403, "tutor": 200, "admin": 200}),
    ("POST", "/api/plans/{plan_id}/pause"): ({}, {  # approved, not yet paid: nothing to pause
        **OTHERS_PLAN, "student": 409, "tutor": 403, "admin": 409}),
    ("POST", "/api/plans/{plan_id}/resume"): ({}, {
        **OTHERS_PLAN, "student": 409, "tutor": 403, "admin": 409}),
    ("PUT", "/api/plans/{plan_id}/slots"): ("slots", {**OTHERS_PLAN, "tutor": 403}),
    ("POST", "/api/plans/{plan_id}/end"): ({}, OTHERS_PLAN),
    ("GET", "/api/invoices/{invoice_id}"): (None, OTHERS_PLAN),
    ("POST", "/api/invoices/{invoice_id}/payments"): ({"method": "link"}, {
        **OTHERS_PLAN, "student": 201, "tutor": 403, "admin": 201}),
    ("GET", "/api/admin/invoices"): (None, {**OPERATORS, "parent": 403}),
}


def test_every_operation_in_the_openapi_document_has_a_rule(server: Any) -> None:
    published = {(method.upper(), path) for path, operations in server.openapi()["paths"].items()
                 for method in operations}
    assert published == set(TABLE), "add the new route to TABLE with who may call it"


def _headers(auth: Any, role: str) -> dict[str, str]:
    return {} if role == "anon" else auth({"outsider": "child"}.get(role, role))


def _slots(n: int, weekday: int = SUNDAY) -> list[dict[str, Any]]:
    return [{"weekday": weekday, "start": f"{7 + 2 * n:02d}:00", "minutes": 60}]


def _plan_body(clock: Any, n: int) -> dict[str, Any]:
    return {"tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
            "slots": _slots(n), "frequency": "monthly",
            "starts_on": next_monday(clock.now(), weeks=2).isoformat()}


async def _plan(api: httpx.AsyncClient, auth: Any, clock: Any, n: int, *, approve: bool
                ) -> dict[str, Any]:
    """The student's plan, proposed (or approved too: its first invoice is then open)."""
    made = await api.post("/api/plans", json=_plan_body(clock, n), headers=auth("student"))
    assert made.status_code == 201, made.text
    if not approve:
        return dict(made.json())
    approved = await api.post(f"/api/plans/{made.json()['id']}/approve", json={},
                              headers=auth("tutor"))
    assert approved.status_code == 200, approved.text
    return dict(approved.json())


@pytest.mark.parametrize(("method", "path"), sorted(TABLE), ids=lambda v: str(v))
async def test_who_may_call_what(api: httpx.AsyncClient, auth: Any, book: Any, clock: Any,
                                 roomy_limits: None, method: str, path: str) -> None:
    body, expected = TABLE[(method, path)]
    for n, role in enumerate(r for r in ASKED if r in expected):
        session = await book("student", hours_ahead=24 + 2 * n)  # a fresh one each time
        plan = await _plan(api, auth, clock, n, approve=body not in ("proposed", "declined")) \
            if "{plan_id}" in path or "{invoice_id}" in path else None
        url = path.format(session_id=session["id"], tutor_id=session["tutor_id"],
                          item_id=UNKNOWN, event_id=987654, job_id=987654,
                          recording_id=UNKNOWN, notification_id=UNKNOWN, payout_id=UNKNOWN,
                          payment_id=UNKNOWN, flag_id=UNKNOWN, review_id=UNKNOWN,
                          proposal_id=UNKNOWN, child_id=CHILD,
                          plan_id=plan and plan["id"],
                          invoice_id=plan and plan["invoices"] and plan["invoices"][0]["id"])
        payload = {
            "booking": {"tutor_id": session["tutor_id"], "subject": "Physics", "minutes": 60,
                        "starts_at": (clock.now() + timedelta(days=40 + n)).isoformat()},
            "move": {"starts_at": (clock.now() + timedelta(days=60 + n)).isoformat()},
            "assign": {"session_id": session["id"]},
            "plan": _plan_body(clock, n),
            "proposed": {},
            "declined": {"reason": "busy"},
            "slots": {"slots": _slots(n, weekday=SUNDAY - 1)},
        }.get(body, body) if isinstance(body, str) else body
        headers = _headers(auth, role)
        if path == "/api/events":
            async with api.stream(method, url, headers=headers) as response:
                status = response.status_code
        else:
            response = await api.request(method, url, json=payload, headers=headers)
            status = response.status_code
            assert status == 204 or response.headers["content-type"].startswith(("application/json",
                                                                "text/plain", "text/csv")), url
        assert status == expected[role], (method, path, role, status)


async def test_secrets_never_reach_logs_answers_or_the_inbox(
    api: httpx.AsyncClient, auth: Any, book: Any, pay: Any, checkout: Any, worker: Any,
    rt: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    token = auth("student")["Authorization"].removeprefix("Bearer ")
    answers = []
    session = await book("student")
    await checkout(await pay(session))
    body = json.dumps(meeting(None)).encode()
    answers.append(await api.post("/api/webhooks/fathom", content=body, headers=signed(body)))
    answers.append(await api.post("/api/webhooks/fathom", content=body, headers={
        **signed(body), "webhook-signature": f"v1,{FATHOM_SECRET}"}))  # a secret pasted wrong
    answers.append(await api.post("/api/webhooks/fapshi", json={"transId": "ABCDEFGH",
                   "status": "SUCCESSFUL"}, headers={"x-wh-secret": FAPSHI_SECRET + "x"}))
    answers.append(await api.get("/api/me", headers={"Authorization": f"Bearer {token}x"}))
    await worker.drain()
    async with rt.sessions() as db:
        stored = [json.dumps(e.headers) for e in (await db.scalars(select(WebhookEvent))).all()]
    secrets = [JWT_SECRET, FAPSHI_SECRET, FATHOM_SECRET, FATHOM_SECRET.removeprefix("whsec_"),
               token, "FAK_TEST_sandbox", "sandbox-fathom-key", "sandbox-google-token"]
    places = {"logs": caplog.text, "answers": " ".join(a.text for a in answers),
              "inbox headers": " ".join(stored)}
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
    assert stored and all("x-wh-secret" not in h and "authorization" not in h for h in stored)


def test_secrets_are_only_ever_compared_in_constant_time() -> None:
    source = "\n".join(p.read_text() for p in Path("prepskul").rglob("*.py"))
    naive = re.findall(r"(?:secret|api_key|apikey|token)\w*\s*(?:==|!=)\s*\w+|"
                       r"\w+\s*(?:==|!=)\s*\w*(?:secret|api_key|apikey)\b", source)
    assert naive == [], naive
    assert source.count("compare_digest") >= 4
