"""The whole story in a browser: book → pay on the fake checkout → the Meet link appears
live → Join opens it → the fake Fathom posts → notes for student and tutor; and an operator
replays a failed webhook."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import snap

pytestmark = pytest.mark.browser


async def test_a_student_books_pays_joins_and_reads_the_notes(
    person, live_worker, sandbox, clock
) -> None:  # type: ignore[no-untyped-def]
    sandbox.fathom.resend_scale = 0.0001
    student = await person("student")
    await snap(student, "sign-in-done")

    # Book one of the tutor's free times: the price is shown before paying, the times are
    # in the student's own zone.
    await student.click("#find-tutor")
    await student.click(".tutor:has-text('Dr. Ngono') a.button")
    await student.select_option("select[name=minutes]", "90")
    await student.click("#lesson button")
    await student.wait_for_url("**minutes=90**")
    assert await student.inner_text("#price") == "7500 XAF"
    await student.locator("#days a.day").nth(1).click()  # tomorrow
    await student.wait_for_url("**day=**")
    first = student.locator("#times input[name=starts_at]").first
    starts = datetime.fromisoformat(await first.get_attribute("value") or "").astimezone(
        ZoneInfo("Africa/Douala"))
    await snap(student, "book")
    await student.click("#book button")
    await student.wait_for_url("**/sessions/*")
    assert "7500 XAF" in await student.inner_text("#session")
    assert starts.strftime("%d/%m/%Y %H:%M") in await student.inner_text("#session") or \
        starts.strftime("%Y-%m-%d %H:%M") in await student.inner_text("#session")
    session_url = student.url
    assert "held for you until" in await student.inner_text("#pay-by")  # 30 minutes to pay

    # A second tab stays open on the session: it must change without reloading.
    watcher = await student.context.new_page()
    await watcher.goto(session_url)
    await watcher.evaluate("window.__stayed = true")
    assert await watcher.get_attribute("#join", "aria-disabled") == "true"

    # Pay on the fake Fapshi checkout, which brings the payer back to the session page.
    await student.click("#pay-link")
    await student.wait_for_url("**/sandbox/fapshi/checkout/*")
    await snap(student, "checkout")
    await student.click("button[value=pay]")
    await student.wait_for_url(session_url)

    await watcher.locator("#status[data-status=scheduled]").wait_for(timeout=20000)
    link = await watcher.get_attribute("#join", "data-href")
    assert link and link.startswith("https://meet.google.com/")
    # The sandbox's "The lesson happened" button comes with the link, as the README says.
    await watcher.wait_for_selector("#lesson", state="visible", timeout=5000)
    assert await watcher.evaluate("window.__stayed") is True  # live, no reload
    assert await watcher.query_selector("#pay") is None
    await snap(watcher, "paid-meet-link")

    # Join opens fifteen minutes before the start, in a new tab: through our server, which
    # records the join, then on to the Meet link.
    joiner = await student.context.new_page()
    await joiner.clock.install(time=starts - timedelta(minutes=5))
    clock.set(starts - timedelta(minutes=5))
    await joiner.context.route("https://meet.google.com/**",
                               lambda route: route.fulfill(body="<title>Meet</title>"))
    await joiner.goto(session_url)
    assert await joiner.get_attribute("#join", "aria-disabled") == "false"
    async with joiner.expect_popup() as popup:
        await joiner.click("#join")
    meet = await popup.value
    await meet.wait_for_url(link)

    # The lesson happens (the sandbox's button, on the page that never reloaded); Fathom's
    # notes arrive and show for both.
    await watcher.click("#lesson")
    await watcher.wait_for_selector("#notes", timeout=20000)
    notes = await watcher.inner_text("#notes")
    assert "Summary" in notes and "Finish exercise 4" in notes
    await snap(watcher, "notes")

    tutor = await person("tutor")
    await tutor.goto(session_url)
    assert "Finish exercise 4" in await tutor.inner_text("#notes")
    await tutor.click("#notes button.check")  # the tutor ticks the homework off
    await tutor.wait_for_selector("#notes button.check[aria-pressed=true]")


async def test_an_operator_replays_a_failed_webhook_from_the_console(
    person, api, auth, book, pay, checkout, sandbox, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    await checkout(await pay(session))
    sandbox.fapshi.controls.fail_next(503, times=3)  # Fapshi is down when we ask
    await worker.drain()

    admin = await person("admin")
    await admin.goto("/ops?provider=fapshi")
    row = admin.locator("table.webhooks tr[data-state=failed]")
    assert "503" in await row.inner_text()
    await snap(admin, "ops")
    await row.locator("button").click()
    await admin.wait_for_url("**/ops?notice=Done.")
    await worker.drain()
    await admin.goto("/ops?provider=fapshi")
    assert await admin.locator("table.webhooks tr[data-state=processed]").count() == 1
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert (seen["status"], seen["meet_state"]) == ("scheduled", "ready")  # the Meet job ran


async def test_pages_escape_what_people_typed_and_refuse_forged_forms(
    person, api, auth, book, settings
) -> None:  # type: ignore[no-untyped-def]
    session = await book("student", note="<script>alert(1)</script>")
    await api.post(f"/api/sessions/{session['id']}/cancel",
                   json={"reason": "<img src=x onerror=alert(2)>"}, headers=auth("student"))
    student = await person("student")
    dialogs: list[str] = []
    student.on("dialog", lambda d: dialogs.append(d.message))
    await student.goto(f"/sessions/{session['id']}?notice=<b>hi</b>")
    assert "<b>hi</b>" in await student.inner_text(".notice")  # shown as text, not markup
    assert dialogs == []
    # A form posted without the page's token (as a forged cross-site form would be):
    forged = await student.request.post(f"{settings.public_base_url}/sessions/"
                                        f"{session['id']}/cancel", form={"reason": "x"})
    assert forged.status == 403
    assert "reload the page" in (await forged.json())["message"]


async def test_a_person_switches_between_french_and_english(person, book) -> None:  # type: ignore[no-untyped-def]
    await book("student")  # Sam prefers English
    student = await person("student")
    assert "My sessions" in await student.inner_text("main")
    assert "awaiting payment" in await student.inner_text(".sessions")
    await student.click("button[name=lang]")
    await student.wait_for_url("**/sessions")
    assert "Mes séances" in await student.inner_text("main")
    assert "en attente de paiement" in await student.inner_text(".sessions")
