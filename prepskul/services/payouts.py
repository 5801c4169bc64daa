"""Payouts through Fapshi: a tutor's withdrawal, a payer's credit back to their phone, or an
owed refund an operator sends out. Like payments: reserved in the transaction that asks,
approved, sent with an externalId that lets a retry find what an earlier attempt created,
confirmed only by what Fapshi's payment-status answers, and reconciled on a schedule."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Payout, Profile
from prepskul.domain.errors import Conflict, NotFound
from prepskul.domain.ledger import OUTSIDE, Account, AccountKind, transfer
from prepskul.domain.payments import PaymentStatus, next_check_delay
from prepskul.domain.payouts import (
    ENDED,
    PayoutStatus,
    Purpose,
    advance,
    check_withdrawal,
    needs_approval,
)
from prepskul.domain.people import Role
from prepskul.domain.pricing import FAPSHI_MINIMUM_XAF
from prepskul.providers.errors import PermanentProviderError
from prepskul.providers.fapshi.models import Transaction
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import audit, feed, ledger

# A payout stuck in `sending` (its job died) is sent again — after a lookup — this late.
RESEND_AFTER = timedelta(minutes=10)


def reserved(payout: Payout) -> Account:
    return Account(AccountKind.RESERVED, payout.id)


def in_flight(payout: Payout) -> Account:
    return Account(AccountKind.IN_FLIGHT, payout.id)


def source(payout: Payout) -> Account:
    return Account(payout.source_kind, payout.source_owner_id)


def external_id(payout: Payout) -> str:
    return payout.id.hex


async def request_withdrawal(
    db: AsyncSession, rt: Runtime, person: Profile, amount: int, phone: str
) -> Payout:
    """A tutor withdraws available earnings, anyone else their credit. The amount is
    reserved in this transaction; small ones are approved at once (setting)."""
    tutor = person.role is Role.TUTOR
    kind = AccountKind.TUTOR_AVAILABLE if tutor else AccountKind.CREDIT
    minimum = rt.settings.payout_minimum_xaf if tutor else FAPSHI_MINIMUM_XAF
    available = await ledger.lock(db, Account(kind, person.id))
    number = check_withdrawal(amount, available, minimum, phone)
    payout = await _create(db, rt, person, person.id, Purpose.EARNINGS if tutor
                           else Purpose.REFUND, Account(kind, person.id), amount, number)
    if not needs_approval(amount, rt.settings.payout_auto_approve_below_xaf):
        await _approve(db, rt, payout)
    return payout


async def _create(
    db: AsyncSession, rt: Runtime, requester: Profile, beneficiary: uuid.UUID,
    purpose: Purpose, from_account: Account, amount: int, phone: str,
) -> Payout:
    assert from_account.owner is not None
    payout = Payout(id=uuid.uuid4(), beneficiary_id=beneficiary, purpose=purpose,
                    source_kind=from_account.kind, source_owner_id=from_account.owner,
                    amount_xaf=amount, phone=phone, status=PayoutStatus.REQUESTED,
                    requested_by_id=requester.id, checks=0)
    db.add(payout)
    await db.flush()
    movement = transfer(f"reserve:{payout.id}", "payout_reserved", from_account,
                        {reserved(payout): amount}, memo=f"payout to {phone[-3:]}")
    assert movement is not None
    await ledger.post(db, movement, now=rt.clock.now(), actor_id=requester.id)
    _announce(db, payout)
    return payout


async def _approve(db: AsyncSession, rt: Runtime, payout: Payout) -> None:
    payout.status = advance(payout.status, PayoutStatus.APPROVED)
    payout.decided_at = rt.clock.now()
    _announce(db, payout)
    await store.enqueue(db, JobKind.SEND_PAYOUT, {"payout_id": str(payout.id)},
                        now=rt.clock.now(), dedupe_key=f"send_payout:{payout.id}")


async def _locked(db: AsyncSession, payout_id: uuid.UUID) -> Payout:
    payout = await db.get(Payout, payout_id, with_for_update=True)
    if payout is None:
        raise NotFound("payout_not_found", "There is no payout with that id.")
    return payout


async def approve(
    db: AsyncSession, rt: Runtime, actor: Profile, payout_id: uuid.UUID, reason: str
) -> Payout:
    payout = await _locked(db, payout_id)
    await _approve(db, rt, payout)
    payout.decided_by_id = actor.id
    await audit.record(db, rt, actor, "approve_payout", f"payout:{payout.id}", reason,
                       amount_xaf=payout.amount_xaf)
    return payout


async def reject(
    db: AsyncSession, rt: Runtime, actor: Profile, payout_id: uuid.UUID, reason: str
) -> Payout:
    """Refuse a payout: the reserved amount goes back where it came from."""
    payout = await _locked(db, payout_id)
    payout.status = advance(payout.status, PayoutStatus.REJECTED)
    payout.decided_by_id, payout.decided_at = actor.id, rt.clock.now()
    payout.finished_at, payout.failure = rt.clock.now(), audit.reason_given(reason)
    await _return(db, rt, payout, reserved(payout))
    _announce(db, payout)
    await audit.record(db, rt, actor, "reject_payout", f"payout:{payout.id}", reason,
                       amount_xaf=payout.amount_xaf)
    return payout


async def send_out(
    db: AsyncSession, rt: Runtime, actor: Profile, *, purpose: Purpose, beneficiary: uuid.UUID,
    from_account: Account, amount: int, phone: str,
) -> Payout:
    """An operator's decision to pay someone out (an owed refund): approved as it is made."""
    payout = await _create(db, rt, actor, beneficiary, purpose, from_account, amount, phone)
    await _approve(db, rt, payout)
    payout.decided_by_id = actor.id
    return payout


async def _return(db: AsyncSession, rt: Runtime, payout: Payout, holder: Account) -> None:
    movement = transfer(f"return:{payout.id}", "payout_returned", holder,
                        {source(payout): payout.amount_xaf}, memo=payout.failure or "")
    assert movement is not None
    await ledger.post(db, movement, now=rt.clock.now())


# --- sending and confirming (jobs) ------------------------------------------------------

async def send(rt: Runtime, payout_id: uuid.UUID) -> str:
    """Send an approved payout. `sending` and the move to in-flight are committed before
    Fapshi is called; a retry (or a worker that took over from a dead one) first asks
    Fapshi whether an earlier attempt created it."""
    now = rt.clock.now()
    async with rt.sessions.begin() as db:
        payout = await _locked(db, payout_id)
        status = payout.status
        if status is PayoutStatus.APPROVED:
            payout.status = advance(status, PayoutStatus.SENDING)
            payout.next_check_at = now + RESEND_AFTER
            movement = transfer(f"send:{payout.id}", "payout_sent", reserved(payout),
                                {in_flight(payout): payout.amount_xaf})
            assert movement is not None
            await ledger.post(db, movement, now=now)
            _announce(db, payout)
        elif status is not PayoutStatus.SENDING:
            return f"already {status.value}"
        amount, phone, ext = payout.amount_xaf, payout.phone, external_id(payout)
    existing = await _created_earlier(rt, ext)
    if existing is None:
        try:
            initiated = await rt.fapshi_payouts.payout(
                amount=amount, phone=phone, external_id=ext, user_id=ext,
                message="PrepSkul payout")
        except PermanentProviderError as exc:  # refused: invalid number, balance too low …
            async with rt.sessions.begin() as db:
                await _fail(db, rt, await _locked(db, payout_id), f"Fapshi: {exc.message}")
            return f"refused by Fapshi: {exc.message}"
        trans_id = initiated.trans_id
    else:
        trans_id = existing.trans_id
    async with rt.sessions.begin() as db:
        payout = await _locked(db, payout_id)
        _record_sent(db, payout, trans_id, rt)
    return await check(rt, payout_id)


async def _created_earlier(rt: Runtime, ext: str) -> Transaction | None:
    found = [t for t in await rt.fapshi_payouts.transactions_of(ext) if t.external_id == ext]
    return found[0] if found else None


def _record_sent(db: AsyncSession, payout: Payout, trans_id: str, rt: Runtime) -> None:
    if payout.status is PayoutStatus.SENDING:
        payout.status = PayoutStatus.SENT
        payout.trans_id, payout.sent_at = trans_id, rt.clock.now()
        payout.next_check_at = rt.clock.now() + timedelta(seconds=30)
        _announce(db, payout)


def _announce(db: AsyncSession, payout: Payout) -> None:
    """Its new status on the change feed, for the person paid out (and operators)."""
    feed.record_private(db, f"payout.{payout.status.value}", [payout.beneficiary_id], {
        "payout_id": str(payout.id), "status": payout.status.value,
        "purpose": payout.purpose.value, "amount_xaf": payout.amount_xaf,
        "failure": payout.failure})


async def ask_fapshi(rt: Runtime, trans_id: str) -> Transaction | None:
    try:
        return await rt.fapshi_payouts.payment_status(trans_id)
    except PermanentProviderError as exc:
        if exc.status == 404:
            return None
        raise


async def check(rt: Runtime, payout_id: uuid.UUID) -> str:
    """Ask Fapshi about a sent payout and act on its answer (the call outside any lock)."""
    async with rt.sessions() as db:
        payout = await db.get(Payout, payout_id)
        trans_id = payout.trans_id if payout else None
    if trans_id is None:
        return "not sent yet"
    tx = await ask_fapshi(rt, trans_id)
    if tx is None:
        return "Fapshi does not know this payout yet"
    async with rt.sessions.begin() as db:
        return await apply_transaction(db, rt, tx)


async def owner_of(db: AsyncSession, trans_id: str) -> uuid.UUID | None:
    return await db.scalar(select(Payout.id).where(Payout.trans_id == trans_id))


async def apply_transaction(db: AsyncSession, rt: Runtime, tx: Transaction) -> str:
    """Fapshi's answer about a payout transaction. Idempotent; a final payout stays final
    (a late or reordered answer changes nothing)."""
    matches: list[ColumnElement[bool]] = [Payout.trans_id == tx.trans_id]
    with contextlib.suppress(ValueError):  # our externalIds are payout ids
        matches.append(Payout.id == uuid.UUID(hex=tx.external_id or ""))
    payout = (await db.scalars(select(Payout).where(or_(*matches)).with_for_update())).first()
    if payout is None:
        return "payout unknown here: ignored"
    _record_sent(db, payout, tx.trans_id, rt)  # an answer that beat our own record of sending
    if payout.status in ENDED:
        return f"already {payout.status}"
    now = rt.clock.now()
    if tx.status is PaymentStatus.SUCCESSFUL:
        movement = transfer(f"paid_out:{payout.id}", "payout_paid", in_flight(payout),
                            {OUTSIDE: payout.amount_xaf})
        assert movement is not None
        await ledger.post(db, movement, now=now)
        payout.status = advance(payout.status, PayoutStatus.SUCCEEDED)
        payout.finished_at = now
        _announce(db, payout)
        return "paid out"
    if tx.status in (PaymentStatus.FAILED, PaymentStatus.EXPIRED):
        await _fail(db, rt, payout, f"Fapshi: {tx.reason or tx.status.value}")
        return "failed: the amount is back where it came from"
    payout.checks += 1
    payout.next_check_at = now + next_check_delay(
        now - (payout.sent_at or now), payout.checks,
        timedelta(seconds=rt.settings.reconcile_interval_seconds))
    return f"still {tx.status.value}"


async def _fail(db: AsyncSession, rt: Runtime, payout: Payout, why: str) -> None:
    payout.status = advance(payout.status, PayoutStatus.FAILED)
    payout.failure, payout.finished_at = why, rt.clock.now()
    await _return(db, rt, payout, in_flight(payout))
    _announce(db, payout)


async def due_for_check(
    rt: Runtime, limit: int = 100
) -> list[tuple[uuid.UUID, PayoutStatus]]:
    """Open payouts whose next look is due: (id, status). Each one's next look is pushed
    back, so two reconcilers do not both take it."""
    now = rt.clock.now()
    async with rt.sessions.begin() as db:
        due = (await db.scalars(
            select(Payout).where(
                Payout.status.in_([PayoutStatus.SENDING, PayoutStatus.SENT]),
                Payout.next_check_at <= now)
            .order_by(Payout.next_check_at).limit(limit).with_for_update(skip_locked=True)
        )).all()
        for payout in due:
            payout.next_check_at = now + RESEND_AFTER
        return [(p.id, p.status) for p in due]


async def list_payouts(
    db: AsyncSession, viewer: Profile, status: str | None = None, limit: int = 100
) -> list[Payout]:
    query = select(Payout).order_by(Payout.created_at.desc()).limit(limit)
    if viewer.role is not Role.ADMIN:
        query = query.where(Payout.beneficiary_id == viewer.id)
    if status:
        if status not in PayoutStatus._value2member_map_:
            raise Conflict("invalid_status", f"'{status}' is not a payout status.")
        query = query.where(Payout.status == status)
    return list((await db.scalars(query)).all())
