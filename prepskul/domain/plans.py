"""Regular lessons on a plan: weekly slots, billing periods, invoices, reminders and grace.

A plan is a learner's standing appointment with a tutor — e.g. Tuesdays and Thursdays
17:00–18:00 on the tutor's wall clock — billed per period. Periods are fixed lengths of
days counted from the start date (28 for monthly, 14 for biweekly, 7 for weekly), as
Preply renews packages every 28 days: a twice-weekly monthly plan is always eight lessons,
so an invoice never changes with the month's length.

Everything here is pure. A lesson's time is the tutor's wall-clock time on its local date,
converted on that date (`availability.wall_to_utc`), so it stays at 17:00 for the tutor
across a daylight-saving change in the tutor's zone. A due date is midnight on the period's
first day in the *payer's* zone (converted the same way, so a payer in a zone with DST is
reminded at the right local hour), but never later than the period's first lesson.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from prepskul.domain.availability import WEEKDAYS, wall_to_utc
from prepskul.domain.booking import MAX_MINUTES, MIN_MINUTES
from prepskul.domain.errors import Conflict, IllegalTransition, InvalidInput
from prepskul.domain.payments import Verdict, judge_match
from prepskul.domain.pricing import FAPSHI_MINIMUM_XAF, Kind, sibling_price_xaf

MINUTES_PER_DAY = 24 * 60
MAX_SLOTS_PER_WEEK = 7


class Frequency(StrEnum):
    """How often the payer is billed: one, two or four instalments a month."""

    MONTHLY = "monthly"
    BIWEEKLY = "biweekly"
    WEEKLY = "weekly"


PERIOD_DAYS = {Frequency.MONTHLY: 28, Frequency.BIWEEKLY: 14, Frequency.WEEKLY: 7}


def frequency(value: str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise InvalidInput("invalid_frequency",
                           "Bill 'monthly', 'biweekly' or 'weekly'.") from None


@dataclass(frozen=True)
class Discounts:
    """Percent off each lesson by billing frequency (settings): paying for longer at once
    costs less."""

    monthly: int = 10
    biweekly: int = 5
    weekly: int = 0

    def percent(self, freq: Frequency) -> int:
        return {Frequency.MONTHLY: self.monthly, Frequency.BIWEEKLY: self.biweekly,
                Frequency.WEEKLY: self.weekly}[freq]


# ---- states -----------------------------------------------------------------------------------


class PlanStatus(StrEnum):
    PROPOSED = "proposed"  # the payer asked; the tutor has not answered
    APPROVED = "approved"  # the tutor said yes; slots reserved, first invoice open
    DECLINED = "declined"
    ACTIVE = "active"  # paid up; slots reserved, periods invoiced
    PAUSED = "paused"  # by choice or for want of payment; slots released
    ENDED = "ended"


class PlanEvent(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    PAID = "paid"  # an invoice was paid
    PAUSE = "pause"  # the payer (or an operator) pauses
    LAPSE = "lapse"  # an invoice stayed unpaid past its grace
    RESUME = "resume"
    END = "end"


PLAN_TRANSITIONS: dict[tuple[PlanStatus, PlanEvent], PlanStatus] = {
    (PlanStatus.PROPOSED, PlanEvent.APPROVE): PlanStatus.APPROVED,
    (PlanStatus.PROPOSED, PlanEvent.DECLINE): PlanStatus.DECLINED,
    (PlanStatus.PROPOSED, PlanEvent.END): PlanStatus.ENDED,  # withdrawn
    (PlanStatus.APPROVED, PlanEvent.PAID): PlanStatus.ACTIVE,
    (PlanStatus.APPROVED, PlanEvent.LAPSE): PlanStatus.PAUSED,
    (PlanStatus.APPROVED, PlanEvent.END): PlanStatus.ENDED,
    (PlanStatus.ACTIVE, PlanEvent.PAID): PlanStatus.ACTIVE,
    (PlanStatus.ACTIVE, PlanEvent.PAUSE): PlanStatus.PAUSED,
    (PlanStatus.ACTIVE, PlanEvent.LAPSE): PlanStatus.PAUSED,
    (PlanStatus.ACTIVE, PlanEvent.END): PlanStatus.ENDED,
    (PlanStatus.PAUSED, PlanEvent.RESUME): PlanStatus.ACTIVE,
    (PlanStatus.PAUSED, PlanEvent.PAID): PlanStatus.ACTIVE,
    (PlanStatus.PAUSED, PlanEvent.END): PlanStatus.ENDED,
}

# While in these, the plan's future slots are reserved in the tutor's calendar.
RESERVING = frozenset({PlanStatus.APPROVED, PlanStatus.ACTIVE})
# Plans that are still running: invoiced, reminded, changeable.
LIVE = frozenset({PlanStatus.APPROVED, PlanStatus.ACTIVE, PlanStatus.PAUSED})


def plan_transition(status: PlanStatus, event: PlanEvent) -> PlanStatus:
    try:
        return PLAN_TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(
            "illegal_plan_transition",
            f"A {status.value} plan cannot be {_PAST.get(event, event.value)}.") from None


_PAST = {PlanEvent.APPROVE: "approved", PlanEvent.DECLINE: "declined",
         PlanEvent.PAID: "paid for", PlanEvent.PAUSE: "paused", PlanEvent.LAPSE: "lapsed",
         PlanEvent.RESUME: "resumed", PlanEvent.END: "ended"}


class InvoiceStatus(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"


class InvoiceEvent(StrEnum):
    PAY = "pay"
    FALL_DUE = "fall_due"
    VOID = "void"


INVOICE_TRANSITIONS: dict[tuple[InvoiceStatus, InvoiceEvent], InvoiceStatus] = {
    (InvoiceStatus.OPEN, InvoiceEvent.PAY): InvoiceStatus.PAID,
    (InvoiceStatus.OPEN, InvoiceEvent.FALL_DUE): InvoiceStatus.OVERDUE,
    (InvoiceStatus.OPEN, InvoiceEvent.VOID): InvoiceStatus.VOID,
    (InvoiceStatus.OVERDUE, InvoiceEvent.PAY): InvoiceStatus.PAID,
    (InvoiceStatus.OVERDUE, InvoiceEvent.VOID): InvoiceStatus.VOID,
}
PAYABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.OVERDUE})


def invoice_transition(status: InvoiceStatus, event: InvoiceEvent) -> InvoiceStatus:
    try:
        return INVOICE_TRANSITIONS[(status, event)]
    except KeyError:
        raise Conflict("invoice_not_payable" if event is InvoiceEvent.PAY
                       else "illegal_invoice_transition",
                       f"This invoice is {status.value}.") from None


# ---- terms -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class WeeklySlot:
    """A weekly lesson on the tutor's wall clock: `weekday` 0 = Monday, `start` minutes after
    local midnight."""

    weekday: int
    start: int
    minutes: int

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start // 60:02d}:{self.start % 60:02d}"


def check_slots(slots: list[WeeklySlot]) -> tuple[WeeklySlot, ...]:
    """One to seven lessons a week, each 30–180 minutes inside one day, none overlapping."""
    if not 1 <= len(slots) <= MAX_SLOTS_PER_WEEK:
        raise InvalidInput("invalid_slots",
                           f"A plan has 1 to {MAX_SLOTS_PER_WEEK} lessons a week.")
    for s in slots:
        if not 0 <= s.weekday <= 6:
            raise InvalidInput("invalid_slots", f"Weekday {s.weekday} is not 0 (Monday)–6.")
        if not MIN_MINUTES <= s.minutes <= MAX_MINUTES:
            raise InvalidInput("invalid_duration",
                               f"A lesson lasts between {MIN_MINUTES} and {MAX_MINUTES} minutes.")
        if s.start < 0 or s.start + s.minutes > MINUTES_PER_DAY:
            raise InvalidInput("invalid_slots", f"The lesson on {s.label} ends after midnight.")
    if len({s.minutes for s in slots}) > 1:
        raise InvalidInput("mixed_lengths", "Every lesson of a plan lasts the same time.")
    ordered = tuple(sorted(slots))
    for a, b in pairwise(ordered):
        if a.weekday == b.weekday and b.start < a.start + a.minutes:
            raise InvalidInput("overlapping_slots",
                               f"The lessons on {a.label} and {b.label} overlap.")
    return ordered


MAX_START_AHEAD = timedelta(days=365)
MAX_LENGTH = timedelta(days=3 * 366)


def check_dates(start: date, end: date | None, today: date) -> None:
    if start < today:
        raise InvalidInput("start_in_past", "A plan starts today or later.")
    if start > today + MAX_START_AHEAD:
        raise InvalidInput("start_too_far", "A plan starts within a year.")
    if end is not None and end < start:
        raise InvalidInput("end_before_start", "A plan's end date comes after its start.")
    if end is not None and end > start + MAX_LENGTH:
        raise InvalidInput("plan_too_long", "A plan lasts at most three years; propose "
                           "another after it.")


@dataclass(frozen=True)
class Terms:
    """What a plan's lessons and periods are computed from."""

    tutor_zone: str
    slots: tuple[WeeklySlot, ...]
    frequency: Frequency
    start: date
    end: date | None = None  # the last day with lessons, inclusive


@dataclass(frozen=True)
class Period:
    index: int
    first: date
    after: date  # the day after its last day

    def covers(self, day: date) -> bool:
        return self.first <= day < self.after


def period(terms: Terms, index: int) -> Period | None:
    """Billing period `index` (0 = the first), or None past the plan's end."""
    days = PERIOD_DAYS[terms.frequency]
    first = terms.start + timedelta(days=days * index)
    if index < 0 or (terms.end is not None and first > terms.end):
        return None
    after = first + timedelta(days=days)
    if terms.end is not None:
        after = min(after, terms.end + timedelta(days=1))
    return Period(index, first, after)


def period_index_on(terms: Terms, day: date) -> int:
    """The index of the period that contains `day` (negative before the start)."""
    return (day - terms.start).days // PERIOD_DAYS[terms.frequency]


@dataclass(frozen=True)
class Lesson:
    starts_at: datetime  # UTC
    ends_at: datetime


def lessons(terms: Terms, first: date, after: date) -> list[Lesson]:
    """The lessons on local dates [first, after), in order, in UTC instants."""
    zone = ZoneInfo(terms.tutor_zone)
    found: list[Lesson] = []
    day = max(first, terms.start)
    last = after if terms.end is None else min(after, terms.end + timedelta(days=1))
    while day < last:
        for slot in terms.slots:
            if slot.weekday == day.weekday():
                start = wall_to_utc(day, slot.start, zone)
                found.append(Lesson(start, wall_to_utc(day, slot.start + slot.minutes, zone)))
        day += timedelta(days=1)
    return sorted(found, key=lambda lesson: lesson.starts_at)


def period_lessons(terms: Terms, p: Period) -> list[Lesson]:
    return lessons(terms, p.first, p.after)


def due_at(p: Period, payer_zone: str, period_lessons_: list[Lesson]) -> datetime:
    """Midnight of the period's first day in the payer's zone, or the first lesson's start
    if that comes sooner (a tutor east of the payer)."""
    midnight = wall_to_utc(p.first, 0, ZoneInfo(payer_zone))
    if period_lessons_:
        return min(midnight, period_lessons_[0].starts_at)
    return midnight


# ---- money ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceAmount:
    """An invoice's breakdown, in whole XAF. `lesson_price` is what each lesson costs after
    both discounts (each rounded so the charge rounds up); `total` what the period costs;
    `credit` what the payer's credit covers; `due` what Fapshi is asked for — 0, or at least
    Fapshi's minimum (credit is held back to leave it that much)."""

    lessons: int
    unit_price: int
    frequency_discount: int
    sibling_discount: int
    lesson_price: int
    total: int
    credit: int
    due: int


def invoice_amount(*, lessons: int, unit_price: int, frequency_percent: int,
                   sibling_percent: int, other_children: int, credit_available: int
                   ) -> InvoiceAmount:
    after_frequency = max(FAPSHI_MINIMUM_XAF, unit_price - unit_price * frequency_percent // 100)
    lesson_price = sibling_price_xaf(after_frequency, Kind.REGULAR, sibling_percent,
                                     other_children)
    total = lessons * lesson_price
    take = min(max(0, credit_available), total)
    if 0 < total - take < FAPSHI_MINIMUM_XAF:
        take = max(0, total - FAPSHI_MINIMUM_XAF)
    return InvoiceAmount(
        lessons=lessons, unit_price=unit_price,
        frequency_discount=lessons * (unit_price - after_frequency),
        sibling_discount=lessons * (after_frequency - lesson_price),
        lesson_price=lesson_price, total=total, credit=take, due=total - take)


# ---- reminders and grace ----------------------------------------------------------------------

REMINDER_LEADS: dict[str, timedelta] = {
    "2d": timedelta(days=2), "1d": timedelta(days=1), "2h": timedelta(hours=2)}


def reminders_due(due: datetime, issued_at: datetime, now: datetime, sent: frozenset[str]
                  ) -> list[str]:
    """The reminders to send now for an unpaid invoice: each lead time that has been
    reached, was not yet sent, and came after the invoice was issued. Only the latest one
    goes when a worker was down across several (no burst of three messages at once)."""
    if now >= due:
        return []
    reached = [label for label, lead in REMINDER_LEADS.items()
               if due - lead <= now and issued_at <= due - lead and label not in sent]
    return reached[-1:]


def is_overdue(due: datetime, now: datetime) -> bool:
    return now >= due


def past_grace(due: datetime, grace: timedelta, now: datetime) -> bool:
    """Unpaid this long after its due date: the plan pauses and its slots are released."""
    return now >= due + grace


def payable_lessons(all_lessons: list[Lesson], now: datetime) -> tuple[list[Lesson],
                                                                        list[Lesson]]:
    """(lessons still ahead, lessons already begun) when an invoice is paid: a late payment
    books the first kind; what was paid for the second goes back to the payer's credit."""
    ahead = [lesson for lesson in all_lessons if lesson.starts_at > now]
    return ahead, [lesson for lesson in all_lessons if lesson.starts_at <= now]


def invoice_external_id(invoice_id: object) -> str:
    """Ties a Fapshi transaction to its invoice (`[a-zA-Z0-9_-]{1,100}`; a session's is its
    bare hex, so the two never collide)."""
    return f"invoice-{getattr(invoice_id, 'hex', invoice_id)}"


def judge_invoice_payment(*, invoice_status: InvoiceStatus, expected_amount: int,
                          paid_amount: int, expected_external_id: str,
                          external_id: str | None) -> Verdict:
    """What a SUCCESSFUL transaction may do to an invoice: pay it, or be flagged — the money
    is then owed back until an operator settles it."""
    mismatch = judge_match(expected_amount=expected_amount, paid_amount=paid_amount,
                           expected_external_id=expected_external_id, external_id=external_id,
                           what="invoice")
    if mismatch is not None:
        return mismatch
    if invoice_status is InvoiceStatus.PAID:
        return Verdict(False, "refund_owed", "the invoice was already paid")
    if invoice_status is InvoiceStatus.VOID:
        return Verdict(False, "refund_owed", "paid after the invoice was void")
    return Verdict(True)
