"""Time at its edges: a session across a daylight-saving change in the booker's zone, a
checkout link at the exact second it expires, reminders at their instant (see
test_notifications for the last)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from prepskul.domain.booking import BookingRules, check_slot
from prepskul.domain.pricing import Kind, TrialPrices, price_xaf
from prepskul.providers.google_calendar.models import when
from prepskul.services import payments

PARIS = ZoneInfo("Europe/Paris")


def test_a_lesson_across_the_spring_change_lasts_its_real_length() -> None:
    # 28 March 2027: Paris clocks jump from 02:00 to 03:00.
    starts = datetime(2027, 3, 28, 1, 30, tzinfo=PARIS)
    slot = check_slot(starts, 60, datetime(2027, 3, 1, tzinfo=UTC), BookingRules())
    assert slot.ends_at - slot.starts_at == timedelta(minutes=60)
    assert price_xaf(Kind.REGULAR, slot.minutes, 5000, TrialPrices.default()) == 5000
    event = when(slot.starts_at, slot.ends_at, "Europe/Paris")
    # Wall clocks read 01:30 → 03:30: two hours on the clock, one hour of lesson.
    assert event["start"]["dateTime"] == "2027-03-28T01:30:00"
    assert event["end"]["dateTime"] == "2027-03-28T03:30:00"


def test_a_lesson_across_the_autumn_change_keeps_its_real_length() -> None:
    # 31 October 2027: Paris clocks go back from 03:00 to 02:00; 02:30 happens twice.
    first = datetime(2027, 10, 31, 2, 30, tzinfo=PARIS, fold=0)
    slot = check_slot(first, 60, datetime(2027, 10, 1, tzinfo=UTC), BookingRules())
    assert slot.ends_at - slot.starts_at == timedelta(minutes=60)
    event = when(slot.starts_at, slot.ends_at, "Europe/Paris")
    assert event["start"]["dateTime"] == "2027-10-31T02:30:00"
    assert event["end"]["dateTime"] == "2027-10-31T02:30:00"  # the second 02:30
    assert slot.starts_at.astimezone(PARIS).utcoffset() == timedelta(hours=2)
    assert slot.ends_at.astimezone(PARIS).utcoffset() == timedelta(hours=1)


async def test_a_checkout_link_expires_at_its_24th_hour_not_a_second_before(
    api, auth, book, pay, sandbox, worker, clock, rt, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # The session's own hold outlasts the link here, to watch the link expire by itself.
    monkeypatch.setattr(rt.settings, "hold_payment_minutes", 48 * 60)
    session = await book("student", hours_ahead=72)
    payment = await pay(session)
    made = datetime.fromisoformat(sandbox.fapshi.transactions[payment["trans_id"]]["dateInitiated"])
    clock.set(made + timedelta(hours=24) - timedelta(seconds=1))
    assert await payments.check_with_fapshi(rt, payment["trans_id"]) == "still CREATED"
    clock.set(made + timedelta(hours=24))
    assert await payments.check_with_fapshi(rt, payment["trans_id"]) == "expired"
    await sandbox.fapshi.flush()  # Fapshi's own EXPIRED webhook changes nothing more
    await worker.drain()
    seen = (await api.get(f"/api/sessions/{session['id']}", headers=auth("student"))).json()
    assert seen["payment"]["status"] == "EXPIRED"
    assert seen["status"] == "awaiting_payment"  # two days left: the family can pay again
