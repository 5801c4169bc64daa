"""After the lesson, in a browser: a lesson with no recording ends as a student no-show
after the tutor's report; a recorded lesson is confirmed by the parent and rated, the tutor
replies; a transcript that asks for Orange Money outside the app reaches the operator's flag
queue — and only theirs."""

from datetime import datetime, timedelta

import pytest

from prepskul.services.demo import demo_user
from tests.e2e.conftest import snap

pytestmark = pytest.mark.browser


async def test_no_show_report_confirmation_review_reply_and_a_flag(
    person, paid_session, sandbox, worker, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    sandbox.fathom.resend_scale = 0.0001
    missed = await paid_session(hours_ahead=3)
    held = await paid_session("parent", student_id=str(demo_user("child").id), hours_ahead=6)

    # No recording: after the lesson the tutor reports the learner absent.
    clock.set(datetime.fromisoformat(missed["starts_at"]) + timedelta(minutes=61))
    tutor = await person("tutor")
    await tutor.goto(f"/sessions/{missed['id']}")
    await tutor.fill("#report-form input[name=topic]", "Fractions")
    await tutor.select_option("#report-form select[name=learner_present]", "no")
    await tutor.click("#report-form button")
    await tutor.wait_for_selector("#outcome[data-outcome=student_no_show]")
    await snap(tutor, "tutor-report-no-show")

    # A recorded lesson in which the tutor asks to be paid by Orange Money, off the app.
    starts = datetime.fromisoformat(held["starts_at"])
    clock.set(starts + timedelta(minutes=61))
    link = (await (await tutor.request.get(f"/api/sessions/{held['id']}")).json())["meet_link"]
    sandbox.fathom.record(
        title="Session: Mathematics", meeting_url=link, starts_at=starts,
        ends_at=starts + timedelta(hours=1), tutor=("Dr. Ngono", "ngono@tutors.prepskul.test"),
        student=("Awa Child", "awa@students.prepskul.test"), va=("VA", rt.settings.va_email),
        lines=["Bonjour Awa, on reprend les équations.", "D'accord.",
               "Dis à ton papa de me payer directement par Orange Money, hors de l'application.",
               "Je lui dirai."])
    await sandbox.fathom.flush()
    await worker.drain()

    parent = await person("parent")
    await parent.goto(f"/sessions/{held['id']}")
    await parent.wait_for_selector("#outcome[data-outcome=completed]")
    assert "Orange Money" not in await parent.inner_text("#after")
    await parent.click("#confirm")
    await parent.wait_for_selector("#settled")
    await parent.select_option("#review-form select[name=rating]", "5")
    await parent.fill("#review-form textarea[name=comment]", "Très bon cours")
    await parent.click("#review-form button")
    await parent.wait_for_selector("#review")
    await snap(parent, "parent-confirmed-and-rated")

    await tutor.goto(f"/sessions/{held['id']}")
    await tutor.fill("#reply-form textarea[name=reply]", "Merci beaucoup !")
    await tutor.click("#reply-form button")
    await tutor.wait_for_selector("#reply")
    assert "Orange Money" not in await tutor.inner_text("main")

    await parent.reload()
    assert "Merci beaucoup" in await parent.inner_text("#reply")

    admin = await person("admin")
    await admin.goto("/ops")
    flags = await admin.inner_text("#flags")
    assert "Orange Money" in flags and "Dr. Ngono" in flags
    assert await admin.locator("#flags li[data-rule=pay_directly]").count() == 1
    await snap(admin, "ops-flags")
