"""The money side of a session: the policy a booking records, what a cancellation or a
lesson does to the money held for it, credit paying a new session, and earnings released
after the quality hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.config import Settings
from prepskul.db.models import Earning, LedgerAccount, Payout, Profile, TutoringSession
from prepskul.domain.errors import Conflict, NotFound
from prepskul.domain.ledger import OUTSIDE, REVENUE, Account, AccountKind, transfer
from prepskul.domain.lifecycle import Event, Status, can
from prepskul.domain.payouts import OPEN
from prepskul.domain.people import Role
from prepskul.domain.policy import Outcome, Party, Policy, Shares, Split, shares, split
from prepskul.domain.pricing import FAPSHI_MINIMUM_XAF, Kind
from prepskul.runtime import Runtime
from prepskul.services import audit, ledger
from prepskul.services.access import session_for

PAID = frozenset({Status.PAID, Status.SCHEDULED, Status.COMPLETED})


def policy_from(settings: Settings) -> Policy:
    return Policy(
        commission_percent=settings.commission_percent,
        trial_commission_percent=settings.trial_commission_percent,
        free_cancel_hours=settings.free_cancel_hours,
        late_refund_percent=settings.late_cancel_refund_percent,
        trial_free_cancel_hours=settings.trial_free_cancel_hours,
        trial_late_refund_percent=settings.trial_late_cancel_refund_percent,
    )


def clearing(session_id: uuid.UUID) -> Account:
    return Account(AccountKind.CLEARING, session_id)


def credit(payer_id: uuid.UUID) -> Account:
    return Account(AccountKind.CREDIT, payer_id)


def party(actor: Profile, session: TutoringSession) -> Party:
    if actor.role is Role.ADMIN:
        return Party.OPERATOR
    return Party.TUTOR if actor.id == session.tutor_id else Party.FAMILY


def session_shares(
    session: TutoringSession, outcome: Outcome, by: Party | None, now: datetime, paid: bool
) -> Shares:
    """The recorded policy's answer for this session. Money held for a session that was
    never fully paid (credit set aside for it) always goes back in full."""
    if not paid:
        return Shares(10_000, 0, 0, "not paid yet: what was set aside goes back to credit")
    return shares(Policy.from_record(session.policy), kind=Kind(session.kind), outcome=outcome,
                  by=by, notice=session.starts_at - now)


@dataclass(frozen=True)
class Quote:
    held: int
    split: Split


async def quote(
    db: AsyncSession, session: TutoringSession, outcome: Outcome, by: Party | None,
    now: datetime, *, paid: bool | None = None,
) -> Quote:
    """What settling the session this way would do, without doing it."""
    held = await ledger.balance(db, clearing(session.id))
    if paid is None:
        paid = Status(session.status) in PAID
    return Quote(held, split(held, session_shares(session, outcome, by, now, paid)))


async def settle(
    db: AsyncSession, rt: Runtime, session: TutoringSession, outcome: Outcome,
    by: Party | None = None, *, was: Status | None = None,
) -> Split | None:
    """Empty the session's clearing account by the policy: the refund to the payer's credit,
    the tutor's share to pending earnings, the rest to revenue. Once per session. `was`:
    the status before the change that settles it (a cancelled session was paid or not)."""
    now = rt.clock.now()
    paid = Status(was or session.status) in PAID
    q = await quote(db, session, outcome, by, now, paid=paid)
    tutor_pending = Account(AccountKind.TUTOR_PENDING, session.tutor_id)
    movement = transfer(
        f"settle:{session.id}", f"settle_{outcome.value}", clearing(session.id),
        {credit(session.booked_by_id): q.split.refund, tutor_pending: q.split.tutor,
         REVENUE: q.split.platform}, memo=q.split.reason)
    if movement is None or not await ledger.post(db, movement, now=now, session_id=session.id):
        return None
    if q.split.tutor:
        hold = timedelta(hours=rt.settings.earnings_hold_hours)
        db.add(Earning(session_id=session.id, tutor_id=session.tutor_id,
                       amount_xaf=q.split.tutor, reason=q.split.reason, release_at=now + hold))
    return q.split


async def collect(
    db: AsyncSession, now: datetime, *, trans_id: str, amount: int, into: Account,
    session_id: uuid.UUID | None,
) -> None:
    """Money a payer paid through Fapshi comes in (once per transaction)."""
    movement = transfer(f"collect:{trans_id}", "collect", OUTSIDE, {into: amount},
                        memo=f"Fapshi {trans_id}")
    if movement:
        await ledger.post(db, movement, now=now, session_id=session_id)


async def apply_credit(
    db: AsyncSession, rt: Runtime, session: TutoringSession, payer_id: uuid.UUID, *,
    fapshi_pays_rest: bool = True,
) -> int:
    """Set the payer's credit aside for this session (as much as it covers, leaving Fapshi
    at least its 100 XAF minimum when Fapshi is to pay the rest). Returns what is still due."""
    held = await ledger.balance(db, clearing(session.id))
    due = session.price_xaf - held
    available = await ledger.lock(db, credit(payer_id))
    take = min(available, due)
    if fapshi_pays_rest and 0 < due - take < FAPSHI_MINIMUM_XAF:
        take = max(0, due - FAPSHI_MINIMUM_XAF)
    movement = transfer(f"credit:{session.id}:{held}", "credit_applied", credit(payer_id),
                        {clearing(session.id): take}, memo="credit pays for a session")
    if movement:
        await ledger.post(db, movement, now=rt.clock.now(), session_id=session.id)
    return due - take


async def credit_due(db: AsyncSession, payer_id: uuid.UUID, price: int) -> tuple[int, int]:
    """(credit that would be used, left to pay) for a price: shown in quotes."""
    available = await ledger.balance(db, credit(payer_id))
    take = min(available, price)
    if 0 < price - take < FAPSHI_MINIMUM_XAF:
        take = max(0, price - FAPSHI_MINIMUM_XAF)
    return take, price - take


async def release_due_earnings(rt: Runtime, limit: int = 500) -> int:
    """Pending earnings whose hold has passed, not held by an operator or a dispute, become
    available to withdraw."""
    now = rt.clock.now()
    async with rt.sessions.begin() as db:
        due = (await db.scalars(
            select(Earning).where(Earning.released_at.is_(None), Earning.held_reason.is_(None),
                                  Earning.release_at <= now)
            .order_by(Earning.release_at).limit(limit).with_for_update(skip_locked=True)
        )).all()
        for earning in due:
            await release(db, earning, now)
        return len(due)


async def release(db: AsyncSession, earning: Earning, now: datetime) -> None:
    movement = transfer(
        f"release:{earning.session_id}", "release",
        Account(AccountKind.TUTOR_PENDING, earning.tutor_id),
        {Account(AccountKind.TUTOR_AVAILABLE, earning.tutor_id): earning.amount_xaf},
        memo="quality hold passed")
    assert movement is not None
    await ledger.post(db, movement, now=now, session_id=earning.session_id)
    earning.released_at = now


async def cancellation_quote(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID
) -> Quote:
    """What cancelling now would do with the money, for the person about to cancel — by the
    same function the cancellation itself applies."""
    session = await session_for(db, actor, session_id)
    if not can(Status(session.status), Event.CANCEL):
        raise Conflict("cannot_cancel",
                       f"A {session.status.replace('_', ' ')} session cannot be cancelled.")
    return await quote(db, session, Outcome.CANCELLED, party(actor, session), rt.clock.now())


@dataclass(frozen=True)
class Balances:
    credit: int
    pending: int
    available: int
    reserved: int


async def balances(db: AsyncSession, person: uuid.UUID) -> Balances:
    """A person's balances: credit (as a payer) and earnings (as a tutor). Reserved is what
    their open payouts hold (asked for, or sent and not yet confirmed)."""
    mine = await ledger.balances_of(db, person)
    open_payouts = select(Payout.id).where(Payout.beneficiary_id == person,
                                           Payout.status.in_(OPEN))
    reserved = await db.scalar(
        select(func.coalesce(func.sum(LedgerAccount.balance_xaf), 0)).where(
            LedgerAccount.kind.in_([AccountKind.RESERVED, AccountKind.IN_FLIGHT]),
            LedgerAccount.owner_id.in_(open_payouts)))
    return Balances(credit=mine.get(AccountKind.CREDIT, 0),
                    pending=mine.get(AccountKind.TUTOR_PENDING, 0),
                    available=mine.get(AccountKind.TUTOR_AVAILABLE, 0),
                    reserved=int(reserved or 0))


async def _earning(db: AsyncSession, session_id: uuid.UUID) -> Earning:
    earning = await db.get(Earning, session_id, with_for_update=True)
    if earning is None:
        raise NotFound("no_earning", "This session has earned its tutor nothing to hold.")
    return earning


async def hold_earning(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID, reason: str
) -> Earning:
    """An operator (or a dispute) keeps a tutor's pending share from being released."""
    earning = await _earning(db, session_id)
    if earning.released_at is not None:
        raise Conflict("already_released", "These earnings were already released.")
    earning.held_reason = audit.reason_given(reason)
    await audit.record(db, rt, actor, "hold_earning", f"session:{session_id}", reason)
    return earning


async def release_earning(
    db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID, reason: str
) -> Earning:
    """Lift a hold; the share is released now if its hold time has passed, else on time."""
    earning = await _earning(db, session_id)
    if earning.held_reason is None:
        raise Conflict("not_held", "These earnings are not held.")
    earning.held_reason = None
    await audit.record(db, rt, actor, "release_earning", f"session:{session_id}", reason)
    now = rt.clock.now()
    if earning.released_at is None and earning.release_at <= now:
        await release(db, earning, now)
    return earning
