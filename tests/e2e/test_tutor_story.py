"""A new tutor, from sign-in to a first booking, all through the pages: the tutor fills in
profile and weekly hours, an operator approves them, a student picks one of the offered
slots (a day, then a time) and books it. No SQL, no seeded tutor."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from prepskul.api.auth import mint_token
from prepskul.domain.people import Role
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import PHONE, snap

pytestmark = pytest.mark.browser


async def test_a_new_tutor_is_approved_and_booked_in_an_offered_slot(
    browser, person, settings, server
) -> None:  # type: ignore[no-untyped-def]
    # The tutor signs in with the token Supabase Auth gave them: a profile is created.
    token = mint_token(JWT_SECRET, uuid.uuid4(), role=Role.TUTOR, email="eyenga@t.test",
                       name="Ms. Eyenga")
    context = await browser.new_context(base_url=settings.public_base_url, viewport=PHONE)
    tutor = await context.new_page()
    await tutor.goto("/signin")
    await tutor.fill("textarea[name=token]", token)
    await tutor.click("form[action='/signin'] button:not([name])")
    await tutor.wait_for_url("**/sessions")
    await tutor.click("header a[href='/tutor']")
    assert await tutor.get_attribute("#tutor-status", "data-status") == "pending"

    # Profile: subjects, level, rate, languages, zone, bio.
    await tutor.fill("input[name=subjects]", "Chemistry, Biology")
    await tutor.check("input[name=levels][value=upper_secondary]")
    await tutor.fill("input[name=hourly_rate_xaf]", "6000")
    await tutor.fill("input[name=teaching_languages]", "en, fr")
    await tutor.fill("input[name=time_zone]", "Europe/Paris")
    await tutor.fill("textarea[name=bio]", "Sciences for the GCE A level.")
    await tutor.click("#profile button")
    await tutor.wait_for_url("**/tutor?notice=Saved.")

    # Weekly hours: 09:00–12:00 every day, on the tutor's own (Paris) clock. A window that
    # crosses midnight is refused first, with the server's sentence, and nothing is kept.
    monday = tutor.locator(".weekday[data-weekday='0']")
    await monday.locator("button.add").click()
    await monday.locator("[name=start]").fill("22:00")
    await monday.locator("[name=end]").fill("02:00")
    await tutor.click("#save-hours")
    await tutor.wait_for_selector("#hours-result.refused")
    assert "midnight" in await tutor.inner_text("#hours-result")
    await monday.locator(".window button.remove").click()
    for day in range(7):
        line = tutor.locator(f".weekday[data-weekday='{day}']")
        await line.locator("button.add").click()
        await line.locator("[name=start]").fill("09:00")
        await line.locator("[name=end]").fill("12:00")
    await tutor.fill("#buffer", "15")
    await tutor.click("#save-hours")
    await tutor.wait_for_selector("#hours-result.saved")
    await snap(tutor, "tutor-hours")
    await tutor.reload()
    assert await tutor.locator(".window").count() == 7  # kept, as saved
    assert await tutor.query_selector("#missing") is None  # ready for an operator

    # Not bookable before approval: students do not see the tutor.
    student = await person("student")
    await student.goto("/tutors?subject=Chemistry")
    assert "Ms. Eyenga" not in await student.inner_text("main")

    # An operator approves the tutor from the console.
    admin = await person("admin")
    await admin.goto("/ops/tutors?status=pending")
    card = admin.locator(".tutor", has_text="Ms. Eyenga")
    await snap(admin, "ops-tutors")
    await card.locator("button.approve").click()
    await admin.wait_for_url("**/ops/tutors?notice=Done.")
    await tutor.reload()
    assert await tutor.get_attribute("#tutor-status", "data-status") == "approved"

    # The student finds them, picks a day, then one of its free times, and books.
    await student.goto("/tutors?subject=Chemistry")
    await student.click(".tutor:has-text('Ms. Eyenga') a.button")
    await student.wait_for_selector("#days")
    assert "6000 XAF" in await student.inner_text("#price")
    days = student.locator("#days a.day")
    await days.nth(1).click()  # the second day offered
    await student.wait_for_selector("#times")
    await snap(student, "slot-picker")
    first = student.locator("#times input[name=starts_at]").first
    starts = datetime.fromisoformat(await first.get_attribute("value") or "")
    assert starts.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M") == "09:00"
    await first.check()
    await student.select_option("select[name=subject]", "Chemistry")
    await student.click("#book button")
    await student.wait_for_url("**/sessions/*")
    page = await student.inner_text("#session")
    assert "6000 XAF" in page and "Chemistry" in page
    shown = starts.astimezone(ZoneInfo("Africa/Douala"))  # Sam reads times in Douala's
    assert shown.strftime("%Y-%m-%d %H:%M") in page
    await context.close()
