"""Plans without a server: states, periods, lesson dates across DST, invoice money,
reminders and grace."""

from datetime import UTC, date, datetime, timedelta

import pytest

from prepskul.domain.errors import Conflict, IllegalTransition, InvalidInput
from prepskul.domain.plans import (
    Discounts,
    Frequency,
    InvoiceEvent,
    InvoiceStatus,
    PlanEvent,
    PlanStatus,
    Terms,
    WeeklySlot,
    check_dates,
    check_slots,
    due_at,
    frequency,
    invoice_amount,
    invoice_transition,
    judge_invoice_payment,
    past_grace,
    payable_lessons,
    period,
    period_index_on,
    period_lessons,
    plan_transition,
    reminders_due,
)

TUE_17 = WeeklySlot(1, 17 * 60, 60)
THU_17 = WeeklySlot(3, 17 * 60, 60)
DOUALA = Terms("Africa/Douala", (TUE_17, THU_17), Frequency.MONTHLY, date(2026, 3, 2))


@pytest.mark.parametrize(("status", "event", "after"), [
    (PlanStatus.PROPOSED, PlanEvent.APPROVE, PlanStatus.APPROVED),
    (PlanStatus.PROPOSED, PlanEvent.DECLINE, PlanStatus.DECLINED),
    (PlanStatus.APPROVED, PlanEvent.PAID, PlanStatus.ACTIVE),
    (PlanStatus.ACTIVE, PlanEvent.PAUSE, PlanStatus.PAUSED),
    (PlanStatus.ACTIVE, PlanEvent.LAPSE, PlanStatus.PAUSED),
    (PlanStatus.PAUSED, PlanEvent.PAID, PlanStatus.ACTIVE),
    (PlanStatus.PAUSED, PlanEvent.RESUME, PlanStatus.ACTIVE),
    (PlanStatus.PAUSED, PlanEvent.END, PlanStatus.ENDED),
])
def test_legal_plan_transitions(status: PlanStatus, event: PlanEvent, after: PlanStatus) -> None:
    assert plan_transition(status, event) is after


@pytest.mark.parametrize(("status", "event"), [
    (PlanStatus.PROPOSED, PlanEvent.PAID),
    (PlanStatus.DECLINED, PlanEvent.APPROVE),
    (PlanStatus.ACTIVE, PlanEvent.APPROVE),
    (PlanStatus.ENDED, PlanEvent.RESUME),
    (PlanStatus.ACTIVE, PlanEvent.RESUME),
    (PlanStatus.PAUSED, PlanEvent.PAUSE),
])
def test_illegal_plan_transitions_are_refused_with_a_reason(
        status: PlanStatus, event: PlanEvent) -> None:
    with pytest.raises(IllegalTransition) as refused:
        plan_transition(status, event)
    assert refused.value.code == "illegal_plan_transition"
    assert status.value in refused.value.message


def test_invoice_states() -> None:
    assert invoice_transition(InvoiceStatus.OPEN, InvoiceEvent.PAY) is InvoiceStatus.PAID
    assert invoice_transition(InvoiceStatus.OPEN, InvoiceEvent.FALL_DUE) is InvoiceStatus.OVERDUE
    assert invoice_transition(InvoiceStatus.OVERDUE, InvoiceEvent.PAY) is InvoiceStatus.PAID
    assert invoice_transition(InvoiceStatus.OVERDUE, InvoiceEvent.VOID) is InvoiceStatus.VOID
    for done in (InvoiceStatus.PAID, InvoiceStatus.VOID):
        with pytest.raises(Conflict) as refused:
            invoice_transition(done, InvoiceEvent.PAY)
        assert refused.value.code == "invoice_not_payable"


def test_an_unknown_frequency_is_refused() -> None:
    assert frequency("biweekly") is Frequency.BIWEEKLY
    with pytest.raises(InvalidInput):
        frequency("daily")


@pytest.mark.parametrize(("slots", "code"), [
    ([], "invalid_slots"),
    ([WeeklySlot(7, 600, 60)], "invalid_slots"),
    ([WeeklySlot(1, 600, 20)], "invalid_duration"),
    ([WeeklySlot(1, 23 * 60 + 30, 60)], "invalid_slots"),
    ([WeeklySlot(1, 600, 60), WeeklySlot(1, 630, 60)], "overlapping_slots"),
])
def test_bad_slots_are_refused(slots: list[WeeklySlot], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_slots(slots)
    assert refused.value.code == code


def test_dates_must_run_forward_from_today() -> None:
    check_dates(date(2026, 3, 2), None, date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        check_dates(date(2026, 2, 28), None, date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        check_dates(date(2026, 3, 2), date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        check_dates(date(9999, 12, 1), None, date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        check_dates(date(2026, 3, 2), date(9999, 12, 31), date(2026, 3, 1))


@pytest.mark.parametrize(("freq", "lessons_per_period"), [
    (Frequency.MONTHLY, 8), (Frequency.BIWEEKLY, 4), (Frequency.WEEKLY, 2)])
def test_a_twice_weekly_plan_has_a_fixed_number_of_lessons_per_period(
        freq: Frequency, lessons_per_period: int) -> None:
    terms = Terms("Africa/Douala", (TUE_17, THU_17), freq, date(2026, 3, 2))
    for index in range(5):
        p = period(terms, index)
        assert p is not None
        assert len(period_lessons(terms, p)) == lessons_per_period


def test_periods_follow_each_other_without_gap_and_stop_at_the_end() -> None:
    terms = Terms("Africa/Douala", (TUE_17,), Frequency.MONTHLY, date(2026, 3, 2),
                  date(2026, 4, 5))
    first, second = period(terms, 0), period(terms, 1)
    assert first is not None and second is not None
    assert first.after == second.first == date(2026, 3, 30)
    assert second.after == date(2026, 4, 6)  # clipped to the end, inclusive
    assert period(terms, 2) is None
    assert [lesson.starts_at.day for lesson in period_lessons(terms, second)] == [31]
    assert period_index_on(terms, date(2026, 3, 29)) == 0
    assert period_index_on(terms, date(2026, 3, 30)) == 1


def test_lessons_keep_the_tutors_wall_clock_across_a_dst_change() -> None:
    # Paris springs forward on 29 March 2026: 17:00 is 16:00 UTC before, 15:00 UTC after.
    terms = Terms("Europe/Paris", (TUE_17,), Frequency.MONTHLY, date(2026, 3, 16))
    p = period(terms, 0)
    assert p is not None
    found = period_lessons(terms, p)
    assert [(x.starts_at.day, x.starts_at.hour) for x in found] == [
        (17, 16), (24, 16), (31, 15), (7, 15)]
    assert all(x.ends_at - x.starts_at == timedelta(hours=1) for x in found)


def test_the_due_date_is_midnight_in_the_payers_zone_even_across_dst() -> None:
    # The period begins the day London moves to summer time: midnight there is still GMT.
    terms = Terms("Africa/Douala", (TUE_17,), Frequency.WEEKLY, date(2026, 3, 29))
    p = period(terms, 0)
    assert p is not None
    assert due_at(p, "Europe/London", period_lessons(terms, p)) == datetime(
        2026, 3, 29, 0, 0, tzinfo=UTC)
    nxt = period(terms, 1)
    assert nxt is not None
    assert due_at(nxt, "Europe/London", period_lessons(terms, nxt)) == datetime(
        2026, 4, 4, 23, 0, tzinfo=UTC)


def test_the_due_date_is_never_after_the_first_lesson() -> None:
    early = Terms("Asia/Tokyo", (WeeklySlot(0, 8 * 60, 60),), Frequency.WEEKLY,
                  date(2026, 3, 2))
    p = period(early, 0)
    assert p is not None
    found = period_lessons(early, p)
    assert due_at(p, "America/New_York", found) == found[0].starts_at


def test_invoice_amount_applies_discounts_then_credit() -> None:
    amount = invoice_amount(lessons=8, unit_price=5000, frequency_percent=10,
                            sibling_percent=15, other_children=1, credit_available=3000)
    assert amount.frequency_discount == 8 * 500
    assert amount.lesson_price == 3825  # 4500 less 15 % (675)
    assert amount.sibling_discount == 8 * 675
    assert amount.total == 8 * 3825
    assert amount.credit == 3000
    assert amount.due == 8 * 3825 - 3000


def test_credit_leaves_fapshi_its_minimum_or_pays_everything() -> None:
    almost = invoice_amount(lessons=2, unit_price=1000, frequency_percent=0,
                            sibling_percent=15, other_children=0, credit_available=1950)
    assert (almost.credit, almost.due) == (1900, 100)
    covered = invoice_amount(lessons=2, unit_price=1000, frequency_percent=0,
                             sibling_percent=15, other_children=0, credit_available=5000)
    assert (covered.credit, covered.due) == (2000, 0)


def test_a_discounted_lesson_never_costs_less_than_fapshi_accepts() -> None:
    amount = invoice_amount(lessons=1, unit_price=100, frequency_percent=10,
                            sibling_percent=15, other_children=2, credit_available=0)
    assert amount.lesson_price == 100 and amount.due == 100


def test_frequency_discounts_are_settings() -> None:
    assert Discounts().percent(Frequency.MONTHLY) == 10
    assert Discounts(monthly=12).percent(Frequency.MONTHLY) == 12
    assert Discounts().percent(Frequency.WEEKLY) == 0


DUE = datetime(2026, 3, 30, 0, 0, tzinfo=UTC)
ISSUED = DUE - timedelta(days=7)


@pytest.mark.parametrize(("now", "sent", "expected"), [
    (DUE - timedelta(days=3), frozenset(), []),
    (DUE - timedelta(days=2), frozenset(), ["2d"]),
    (DUE - timedelta(hours=30), frozenset({"2d"}), []),
    (DUE - timedelta(hours=23), frozenset({"2d"}), ["1d"]),
    (DUE - timedelta(hours=1), frozenset({"2d", "1d"}), ["2h"]),
    (DUE - timedelta(hours=1), frozenset(), ["2h"]),  # a worker down: only the latest
    (DUE, frozenset(), []),
])
def test_reminders_go_2_days_1_day_and_2_hours_before_the_due_date(
        now: datetime, sent: frozenset[str], expected: list[str]) -> None:
    assert reminders_due(DUE, ISSUED, now, sent) == expected


def test_an_invoice_issued_late_skips_the_reminders_it_came_after() -> None:
    assert reminders_due(DUE, DUE - timedelta(hours=20), DUE - timedelta(hours=3),
                         frozenset()) == []
    assert reminders_due(DUE, DUE - timedelta(hours=20), DUE - timedelta(hours=1),
                         frozenset()) == ["2h"]


def test_grace_runs_from_the_due_date() -> None:
    grace = timedelta(hours=48)
    assert not past_grace(DUE, grace, DUE + timedelta(hours=47))
    assert past_grace(DUE, grace, DUE + grace)


def test_a_late_payment_books_only_the_lessons_still_ahead() -> None:
    p = period(DOUALA, 0)
    assert p is not None
    found = period_lessons(DOUALA, p)
    ahead, gone = payable_lessons(found, found[1].starts_at)
    assert len(ahead) == 6 and len(gone) == 2


@pytest.mark.parametrize(("status", "paid", "ext", "flag"), [
    (InvoiceStatus.OPEN, 8000, "invoice-1", None),
    (InvoiceStatus.OVERDUE, 8000, None, None),
    (InvoiceStatus.OPEN, 7000, "invoice-1", "amount_mismatch"),
    (InvoiceStatus.OPEN, 8000, "invoice-2", "wrong_invoice"),
    (InvoiceStatus.PAID, 8000, "invoice-1", "refund_owed"),
    (InvoiceStatus.VOID, 8000, "invoice-1", "refund_owed"),
])
def test_what_a_successful_transaction_does_to_an_invoice(
        status: InvoiceStatus, paid: int, ext: str | None, flag: str | None) -> None:
    verdict = judge_invoice_payment(invoice_status=status, expected_amount=8000,
                                    paid_amount=paid, expected_external_id="invoice-1",
                                    external_id=ext)
    assert verdict.confirm is (flag is None) and verdict.flag == flag
