"""A parent in a browser: adds two children (no accounts), books a lesson for each — the
second child's price shows the sibling discount before booking — pays the first; the tutor
proposes a new time, the parent accepts it, and the Meet event moves with the lesson."""

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import snap, until_status

pytestmark = pytest.mark.browser
DOUALA = ZoneInfo("Africa/Douala")


async def add_child(parent, name: str, level: str, school: str) -> None:  # type: ignore[no-untyped-def]
    form = parent.locator("#add-child")
    await form.locator("input[name=full_name]").fill(name)
    await form.locator("select[name=level]").select_option(level)
    await form.locator("input[name=school]").fill(school)
    await form.locator("button").click()
    await parent.wait_for_url("**/children?notice=**")
    assert name in await parent.inner_text("#children")


async def book_for(parent, child: str) -> tuple[datetime, str]:  # type: ignore[no-untyped-def]
    """Pick the child, then tomorrow's first free time; returns it and the price shown."""
    await parent.goto("/tutors")
    await parent.click(".tutor:has-text('Dr. Ngono') a.button")
    await parent.select_option("#child", label=child)
    await parent.click("#lesson button")
    await parent.wait_for_url("**child=**")
    await parent.locator("#days a.day").nth(1).click()
    await parent.wait_for_url("**day=**")
    assert child in await parent.inner_text("#booking-for")
    first = parent.locator("#times input[name=starts_at]").first
    starts = datetime.fromisoformat(await first.get_attribute("value") or "")
    return starts, await parent.inner_text("#price")


async def test_a_parent_books_for_two_children_and_accepts_a_move(
    person, live_worker, sandbox
) -> None:  # type: ignore[no-untyped-def]
    parent = await person("parent")
    await parent.click("header a[href='/children']")
    await add_child(parent, "Bibi Mbarga", "primary", "École Publique de Bastos")
    await add_child(parent, "Céline Mbarga", "lower_secondary", "Lycée Leclerc")
    await snap(parent, "children")

    # The first child: full price. Booked and paid on the fake checkout.
    starts, price = await book_for(parent, "Bibi Mbarga")
    assert price == "5000 XAF" and await parent.query_selector("#sibling-discount") is None
    await parent.click("#book button")
    await parent.wait_for_url("**/sessions/*")
    first_session = parent.url
    assert "5000 XAF" in await parent.inner_text("#session")
    await parent.click("#pay-link")
    await parent.wait_for_url("**/sandbox/fapshi/checkout/*")
    await parent.click("button[value=pay]")
    await parent.wait_for_url(first_session)
    await until_status(parent, "scheduled")

    # The second child, the same month: the sibling discount shows before booking.
    second_starts, price = await book_for(parent, "Céline Mbarga")
    assert second_starts != starts  # the first child's lesson holds its time
    assert price == "4250 XAF"
    assert "750 XAF" in await parent.inner_text("#sibling-discount")
    await snap(parent, "sibling-discount")
    await parent.click("#book button")
    await parent.wait_for_url("**/sessions/*")
    assert "4250 XAF" in await parent.inner_text("#session")

    # The tutor proposes a new time for the first lesson; the parent accepts it.
    new_start = (starts + timedelta(days=2)).astimezone(DOUALA)
    tutor = await person("tutor")
    await tutor.goto(first_session)
    await tutor.click("details:has(form[action$='/reschedule']) summary")
    await tutor.fill("input[name=starts]", new_start.strftime("%Y-%m-%dT%H:%M"))
    await tutor.click("form[action$='/reschedule'] button")
    await tutor.wait_for_selector("#proposal")
    await parent.goto(first_session)
    await parent.click("#accept-move")
    await parent.wait_for_url(first_session)
    assert new_start.strftime("%H:%M") in await parent.inner_text("#session")
    assert await parent.query_selector("#proposal") is None

    # The Meet event moves with it (the worker tells Google Calendar).
    wanted = new_start.replace(tzinfo=None).isoformat(timespec="seconds")
    for _ in range(100):
        starts_now = [e["start"]["dateTime"] for e in sandbox.calendar.events.values()]
        if starts_now == [wanted]:
            break
        await asyncio.sleep(0.2)
    assert starts_now == [wanted]
