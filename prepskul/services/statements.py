"""Statements read straight off the ledger: an operator's daily totals, which must
reconcile to the franc, and a tutor's monthly statement."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import LedgerAccount, LedgerEntry, LedgerTransaction
from prepskul.domain.errors import InvalidInput
from prepskul.domain.ledger import AccountKind

PLATFORM_ZONE = ZoneInfo("Africa/Douala")


@dataclass(frozen=True)
class DailyTotals:
    day: date
    collected: int  # in from payers through Fapshi
    paid_out: int  # out to phones (tutors' withdrawals and refunds), confirmed by Fapshi
    refunded_to_credit: int  # cancellations and owed refunds turned into PrepSkul credit
    platform_revenue: int  # commission, late-cancellation shares kept, waived refunds
    tutor_earned: int  # tutors' shares of lessons and late cancellations
    outside_change: int  # the outside world's account over the day
    unbalanced_transactions: int

    @property
    def reconciles(self) -> bool:
        """What came in less what went out is exactly what the outside world's account
        lost, and every transaction of the day balances."""
        return (self.paid_out - self.collected == self.outside_change
                and self.unbalanced_transactions == 0)


def today(now: datetime) -> date:
    return now.astimezone(PLATFORM_ZONE).date()


def this_month(now: datetime) -> str:
    return now.astimezone(PLATFORM_ZONE).strftime("%Y-%m")


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), PLATFORM_ZONE)
    return start, start + timedelta(days=1)


async def daily_totals(db: AsyncSession, day: date) -> DailyTotals:
    start, end = _bounds(day)
    rows = (await db.execute(
        select(LedgerTransaction.kind, LedgerAccount.kind,
               func.sum(LedgerEntry.amount_xaf))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerTransaction.created_at >= start, LedgerTransaction.created_at < end)
        .group_by(LedgerTransaction.kind, LedgerAccount.kind))).all()
    by: dict[tuple[str, AccountKind], int] = {(t, a): int(n) for t, a, n in rows}

    def total(account: AccountKind, *, kinds: tuple[str, ...] | None = None,
              prefix: str | None = None) -> int:
        return sum(n for (t, a), n in by.items() if a is account
                   and (kinds is None or t in kinds) and (prefix is None or t.startswith(prefix)))

    per_txn = (select(func.sum(LedgerEntry.amount_xaf).label("s"))
               .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
               .where(LedgerTransaction.created_at >= start, LedgerTransaction.created_at < end)
               .group_by(LedgerEntry.transaction_id).subquery())
    unbalanced = await db.scalar(select(func.count()).where(per_txn.c.s != 0))
    return DailyTotals(
        day=day,
        collected=-total(AccountKind.OUTSIDE, kinds=("collect",)),
        paid_out=total(AccountKind.OUTSIDE, kinds=("payout_paid",)),
        refunded_to_credit=total(AccountKind.CREDIT, prefix="settle_")
        + total(AccountKind.CREDIT, kinds=("refund_resolved",)),
        platform_revenue=total(AccountKind.REVENUE),
        tutor_earned=total(AccountKind.TUTOR_PENDING, prefix="settle_"),
        outside_change=total(AccountKind.OUTSIDE),
        unbalanced_transactions=int(unbalanced or 0),
    )


def parse_month(month: str) -> tuple[datetime, datetime]:
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=PLATFORM_ZONE)
    except ValueError:
        raise InvalidInput("invalid_month", "Give the month as YYYY-MM, e.g. 2026-11.") from None
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


TUTOR_ACCOUNTS = (AccountKind.TUTOR_PENDING, AccountKind.TUTOR_AVAILABLE)


async def tutor_statement(db: AsyncSession, tutor_id: uuid.UUID, month: str) -> str:
    """A tutor's month as CSV: every movement of their pending and available earnings, in
    order, with the balances after it."""
    start, end = parse_month(month)
    before: dict[AccountKind, int] = {kind: int(n) for kind, n in (await db.execute(
        select(LedgerAccount.kind, func.coalesce(func.sum(LedgerEntry.amount_xaf), 0))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerAccount.owner_id == tutor_id, LedgerAccount.kind.in_(TUTOR_ACCOUNTS),
               LedgerTransaction.created_at < start)
        .group_by(LedgerAccount.kind))).all()}
    pending = before.get(AccountKind.TUTOR_PENDING, 0)
    available = before.get(AccountKind.TUTOR_AVAILABLE, 0)
    rows = (await db.execute(
        select(LedgerTransaction.created_at, LedgerTransaction.kind, LedgerTransaction.memo,
               LedgerTransaction.session_id, LedgerAccount.kind, LedgerEntry.amount_xaf)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.owner_id == tutor_id, LedgerAccount.kind.in_(TUTOR_ACCOUNTS),
               LedgerTransaction.created_at >= start, LedgerTransaction.created_at < end)
        .order_by(LedgerEntry.id))).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "what", "session", "pending_change_xaf", "available_change_xaf",
                     "pending_after_xaf", "available_after_xaf", "note"])
    for at, kind, memo, session_id, account, amount in rows:
        is_pending = account is AccountKind.TUTOR_PENDING
        pending += amount if is_pending else 0
        available += 0 if is_pending else amount
        writer.writerow([at.astimezone(PLATFORM_ZONE).isoformat(timespec="seconds"), kind,
                         session_id or "", amount if is_pending else 0,
                         0 if is_pending else amount, pending, available, memo])
    return out.getvalue()
