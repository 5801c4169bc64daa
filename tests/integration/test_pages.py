"""The pages decide with the API's rules: the operator check of the operator API, and what a
session page offers from the lifecycle and the access rules, not lists of their own."""

import json
import re
from typing import Any

from prepskul.api.auth import mint_token
from prepskul.domain.lifecycle import LESSON_AHEAD
from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET


def _cookies(who: str) -> dict[str, str]:
    """A signed-in browser's cookies, as a header (httpx deprecates per-request cookies)."""
    user = demo_user(who)
    token = mint_token(JWT_SECRET, user.id, role=user.role, email=user.email, name=user.name)
    return {"Cookie": f"prepskul_token={token}; prepskul_csrf=form-token"}


async def _page(api: Any, who: str, path: str) -> Any:
    return await api.get(path, headers=_cookies(who), follow_redirects=False)


async def test_the_operator_pages_use_the_operator_apis_check(api: Any) -> None:
    for who in ("student", "tutor", "parent"):
        refused = await _page(api, who, "/ops")
        assert refused.status_code == 303
        assert refused.headers["location"] == "/sessions?notice=Only%20operators%20can%20do%20this."
        posted = await api.post("/ops/jobs/1", data={"csrf": "form-token"},
                                headers=_cookies(who), follow_redirects=False)
        assert posted.headers["location"].startswith("/sessions?notice=Only%20operators")
    assert (await _page(api, "admin", "/ops")).status_code == 200


async def test_a_session_page_offers_what_the_rules_allow_its_viewer(
    api: Any, book: Any
) -> None:
    trial = await book("student", kind="trial", minutes=30)  # requested: the tutor decides
    tutor_view = (await _page(api, "tutor", f"/sessions/{trial['id']}")).text
    student_view = (await _page(api, "student", f"/sessions/{trial['id']}")).text
    assert f'/sessions/{trial["id"]}/approve' in tutor_view
    assert f'/sessions/{trial["id"]}/approve' not in student_view
    assert 'id="pay-link"' not in student_view  # nothing to pay before approval
    assert f'/sessions/{trial["id"]}/cancel' in student_view

    regular = await book("student", minutes=60, hours_ahead=48)  # awaiting payment
    student_view = (await _page(api, "student", f"/sessions/{regular['id']}")).text
    tutor_view = (await _page(api, "tutor", f"/sessions/{regular['id']}")).text
    assert 'id="pay-link"' in student_view and 'id="meet"' in student_view
    assert 'id="pay-link"' not in tutor_view


async def test_the_live_script_reads_the_lesson_ahead_statuses_from_the_domain(
    api: Any, book: Any
) -> None:
    """One home for the rule: the page renders the domain's set, live.js names none itself."""
    session = await book("student", minutes=60, hours_ahead=48)
    page = (await _page(api, "student", f"/sessions/{session['id']}")).text
    found = re.search(r'<script id="lesson-ahead" type="application/json">(.*?)</script>', page)
    assert found is not None
    assert set(json.loads(found[1])) == {s.value for s in LESSON_AHEAD}
    script = (await api.get("/static/live.js")).text
    assert 'getElementById("lesson-ahead")' in script
    assert not re.search(r'\[\s*"awaiting_payment",\s*"paid"', script)


async def test_a_move_of_a_paid_session_is_proposed_and_answered_on_the_session_page(
    api: Any, paid_session: Any, clock: Any
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    session = await paid_session()
    page = f"/sessions/{session['id']}"
    when = (clock.now() + timedelta(days=4)).astimezone(ZoneInfo("Africa/Douala"))
    proposed = await api.post(f"{page}/reschedule", headers=_cookies("student"),
                              data={"csrf": "form-token",
                                    "starts": when.strftime("%Y-%m-%dT%H:%M")},
                              follow_redirects=False)
    assert proposed.headers["location"] == page  # no refusal notice
    assert 'id="accept-move"' not in (await _page(api, "student", page)).text  # not theirs
    assert "id=\"proposal\"" in (await _page(api, "student", page)).text
    tutor_view = (await _page(api, "tutor", page)).text
    assert 'id="accept-move"' in tutor_view
    proposal = tutor_view.split('data-proposal="')[1].split('"')[0]
    accepted = await api.post(f"{page}/accept_move", headers=_cookies("tutor"),
                              data={"csrf": "form-token", "proposal": proposal},
                              follow_redirects=False)
    assert accepted.headers["location"] == page
    moved = (await api.get(f"/api/sessions/{session['id']}", headers=_cookies("student"))).json()
    assert datetime.fromisoformat(moved["starts_at"]) == when.replace(second=0, microsecond=0)
    assert 'id="proposal"' not in (await _page(api, "tutor", page)).text


async def test_a_plan_is_proposed_approved_and_paid_on_its_pages(
    api: Any, clock: Any, checkout: Any, worker: Any
) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    tutor = demo_user("tutor").id
    assert 'id="propose-plan"' in (await _page(api, "parent", f"/tutors/{tutor}")).text
    today = clock.now().astimezone(ZoneInfo("Africa/Douala")).date()
    monday = today + timedelta(days=7 - today.weekday())
    form = {"csrf": "form-token", "tutor_id": str(tutor), "weekdays": ["1", "3"],
            "start": "17:00", "minutes": "60", "frequency": "monthly",
            "starts_on": monday.isoformat(), "subject": "Mathematics",
            "student_id": str(demo_user("child").id)}
    refused = await api.post("/plans", headers=_cookies("parent"),
                             data={**form, "weekdays": []}, follow_redirects=False)
    assert refused.headers["location"].startswith(f"/tutors/{tutor}?notice=")
    proposed = await api.post("/plans", headers=_cookies("parent"), data=form,
                              follow_redirects=False)
    page = proposed.headers["location"]
    assert page.startswith("/plans/") and "notice" not in page
    assert 'id="approve-plan"' not in (await _page(api, "parent", page)).text
    approved = await api.post(f"{page}/approve", headers=_cookies("tutor"),
                              data={"csrf": "form-token"}, follow_redirects=False)
    assert approved.headers["location"] == page
    view = (await _page(api, "parent", page)).text
    assert 'data-status="active"' not in view and "36000 XAF" in view
    invoice = view.split('data-invoice="')[1].split('"')[0]
    paying = await api.post(f"/invoices/{invoice}/pay", headers=_cookies("parent"),
                            data={"csrf": "form-token", "plan_id": page.split("/")[-1],
                                  "method": "link"}, follow_redirects=False)
    link = paying.headers["location"]
    assert "/sandbox/fapshi/checkout/" in link
    await checkout({"link": link})
    await worker.drain()
    assert 'data-status="active"' in (await _page(api, "parent", page)).text
    assert page in (await _page(api, "parent", "/plans")).text
    assert 'id="overdue-invoices"' in (await _page(api, "admin", "/ops/money")).text
