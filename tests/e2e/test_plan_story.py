"""Regular lessons in a browser (issue 18's story): a parent proposes a twice-weekly monthly
plan for a child from the tutor's page, the tutor approves it, the parent pays the first
invoice on the fake Fapshi checkout and eight sessions appear with their Meet links; the
second invoice is left unpaid past its grace, and the plan pauses and frees its times."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from prepskul.services.demo import demo_user
from tests.e2e.conftest import snap

pytestmark = pytest.mark.browser
DOUALA = ZoneInfo("Africa/Douala")


async def settled(api: Any, auth: Any, plan_id: str, worker: Any,
                  done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The plan once the background worker (running beside the test) has done its part."""
    for _ in range(100):
        await worker.drain()
        plan: dict[str, Any] = (await api.get(f"/api/plans/{plan_id}",
                                              headers=auth("parent"))).json()
        if done(plan):
            return plan
        await asyncio.sleep(0.2)
    raise AssertionError(f"the plan never got there: {plan}")


async def test_a_parent_plans_lessons_pays_the_first_invoice_and_the_second_lapses(
    person, live_worker, api, auth, clock, rt, sandbox,
) -> None:  # type: ignore[no-untyped-def]
    parent = await person("parent")
    await parent.goto(f"/tutors/{demo_user('tutor').id}")
    today = clock.now().astimezone(DOUALA).date()
    monday = today + timedelta(days=7 - today.weekday())
    form = parent.locator("#propose-plan")
    await form.locator("input[name=weekdays][value='1']").check()
    await form.locator("input[name=weekdays][value='3']").check()
    await form.locator("input[name=start]").fill("17:00")
    await form.locator("select[name=frequency]").select_option("monthly")
    await form.locator("input[name=starts_on]").fill(monday.isoformat())
    await snap(parent, "plan-propose")
    await form.locator("button").click()
    await parent.wait_for_url("**/plans/*")
    plan_url = parent.url
    assert await parent.get_attribute("#plan", "data-status") == "proposed"

    tutor = await person("tutor")
    await tutor.goto(plan_url)
    await tutor.click("#approve-plan button")
    await tutor.wait_for_url(plan_url)
    assert await tutor.get_attribute("#plan", "data-status") == "approved"

    await parent.reload()
    assert "36000 XAF" in await parent.inner_text("#invoices")
    await snap(parent, "plan-invoice")
    await parent.click(".pay-invoice button[value=link]")
    await parent.wait_for_url("**/sandbox/fapshi/checkout/*")
    await parent.click("button[value=pay]")
    await parent.wait_for_url(plan_url)
    for _ in range(50):  # the worker confirms the payment beside the browser
        if await parent.get_attribute("#plan", "data-status") == "active":
            break
        await parent.wait_for_timeout(200)
        await parent.reload()
    assert await parent.get_attribute("#plan", "data-status") == "active"

    plan_id = plan_url.rsplit("/", 1)[1]
    for _ in range(100):  # the Meet links come from the background worker
        items = (await api.get("/api/sessions", headers=auth("parent"),
                               params={"limit": 50})).json()["items"]
        if len(items) == 8 and all(s["meet_link"] for s in items):
            break
        await parent.wait_for_timeout(200)
    assert len(items) == 8 and all(s["meet_link"] for s in items)
    await parent.goto("/sessions")
    assert await parent.locator(".sessions li").count() == 8
    await snap(parent, "plan-sessions")

    # The second invoice is issued a week ahead and never paid: past its grace the plan
    # pauses and the tutor's times are free again.
    plan = (await api.get(f"/api/plans/{plan_id}", headers=auth("parent"))).json()
    second_period = datetime.fromisoformat(plan["start_date"]).date() + timedelta(days=28)
    clock.set(datetime.combine(second_period - timedelta(days=7), datetime.min.time(), DOUALA))
    plan = await settled(api, auth, plan_id, live_worker, lambda p: len(p["invoices"]) == 2)
    due = datetime.fromisoformat(plan["invoices"][1]["due_at"])
    clock.set(due + timedelta(hours=rt.settings.plan_grace_hours, minutes=1))
    await settled(api, auth, plan_id, live_worker, lambda p: p["status"] == "paused")
    await parent.goto(plan_url)
    assert await parent.get_attribute("#plan", "data-status") == "paused"
    await snap(parent, "plan-paused")
    free_time = datetime.fromisoformat(plan["invoices"][1]["lessons"][-1][0])
    booked = await api.post("/api/sessions", headers=auth("student"), json={
        "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
        "starts_at": free_time.isoformat(), "minutes": 60})
    assert booked.status_code == 201, booked.text
