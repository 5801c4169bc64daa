"""Money in a browser (issue 19's story): a student cancels late and sees the outcome before
confirming; the tutor sees the share earned and, after the hold, withdraws it to a phone; an
operator approves, the fake Fapshi pays out, and the operator's daily totals reconcile with
the ledger. Then a tutor's cancellation refunds the student to credit, which pays the next
booking without Fapshi."""

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.conftest import snap
from tests.integration.money_checks import assert_ledger_sound, balance

pytestmark = pytest.mark.browser


async def until_shown(page: Any, selector: str, text: str) -> None:
    """Reload until the background worker's result shows (it runs beside the browser)."""
    for _ in range(50):
        if await page.inner_text(selector) == text:
            return
        await page.wait_for_timeout(200)
        await page.reload()
    assert await page.inner_text(selector) == text


async def test_late_cancellation_earnings_withdrawal_and_credit(
    person, live_worker, paid_session, book, pay, sandbox, clock, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session(hours_ahead=10, minutes=180)  # 15,000 XAF, 10 h ahead
    student = await person("student")
    await student.goto(f"/sessions/{session['id']}")
    await student.click("details summary")
    quote = student.locator("#cancel-quote")
    assert await quote.get_attribute("data-refund") == "7500"
    assert await quote.get_attribute("data-tutor") == "6375"
    assert "7500 XAF" in await quote.inner_text()  # stated before the person confirms
    await snap(student, "cancel-quote")
    await student.click("#cancel button")
    await student.locator("#status[data-status=cancelled]").wait_for()

    tutor = await person("tutor")
    await tutor.click("header a[href='/money']")
    assert await tutor.inner_text("#pending") == "6375 XAF"
    clock.advance(timedelta(hours=25))  # the quality hold passes
    await live_worker.drain()
    await until_shown(tutor, "#available", "6375 XAF")
    await tutor.fill("#withdraw input[name=amount]", "6000")
    await tutor.fill("#withdraw input[name=phone]", "670 00 00 00")
    await tutor.click("#withdraw button")
    await tutor.locator(".payouts tr[data-status=requested]").wait_for()
    await snap(tutor, "withdrawal-requested")

    operator = await person("admin")
    await operator.click("header a[href='/ops/money']")
    await operator.click("#waiting button[value=approve]")
    await operator.wait_for_url("**/ops/money?notice=Done.")
    await until_shown(operator, "#paid-out", "6000 XAF")  # sent, paid out by the fake
    assert await operator.inner_text("#reconciles") == "✔"
    await snap(operator, "ops-money")
    assert [t["amount"] for t in sandbox.fapshi.transactions.values()
            if t["transType"] == "Payout"] == [6000]
    await tutor.reload()
    assert await tutor.inner_text("#available") == "375 XAF"

    # A tutor's cancellation refunds the student in full, to credit ...
    second = await book("student", hours_ahead=30)  # 5,000 XAF, paid from the 7,500 credit
    assert (await pay(second))["method"] == "credit"
    await live_worker.drain()
    await tutor.goto(f"/sessions/{second['id']}")
    await tutor.click("details summary")
    assert await tutor.locator("#cancel-quote").get_attribute("data-refund") == "5000"
    await tutor.click("#cancel button")
    await tutor.locator("#status[data-status=cancelled]").wait_for()
    assert await balance(rt, "credit", session["booked_by_id"]) == 2500 + 5000

    # ... which pays the next booking: no Fapshi page, the session is paid at once.
    third = await book("student", hours_ahead=50)
    before = len(sandbox.fapshi.transactions)
    await student.goto(f"/sessions/{third['id']}")
    await student.click("#pay-link")
    # Paid at once by credit: the page it lands on already says so (the Meet link, and with
    # it `scheduled`, follows from the worker; the browser story covers that live update).
    await student.locator("#status[data-status=paid], #status[data-status=scheduled]"
                          ).wait_for()
    assert len(sandbox.fapshi.transactions) == before
    await student.click("header a[href='/money']")
    assert await student.inner_text("#credit") == "2500 XAF"
    await assert_ledger_sound(rt)
