"""The ledger's invariants under random interleavings (Hypothesis): bookings paid and
resent, cancellations by anyone at any notice, money paid after a cancellation, lessons,
time passing, withdrawals that succeed, fail or are refused, owed refunds resolved — all
through the public API, the worker and the fake Fapshi. After every step: every
transaction balances, every kept balance is its entries' sum, nothing but the outside world
is below zero, money is held for exactly the sessions that are paid and not yet settled,
and nothing was paid out twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from prepskul.db.models import LedgerAccount, Payout, TutoringSession
from prepskul.services.demo import seed_demo
from tests.integration.money_checks import assert_ledger_sound

WHO = st.sampled_from(["student", "tutor", "admin"])
STEP = st.one_of(
    st.tuples(st.just("book_and_pay"), st.sampled_from([3, 10, 30, 60]),
              st.sampled_from([30, 60, 90, 120])),
    st.tuples(st.just("resend_last_webhook")),
    st.tuples(st.just("cancel"), st.integers(0, 5), WHO),
    st.tuples(st.just("pay_after_cancel")),
    st.tuples(st.just("lesson_happens"), st.integers(0, 5)),
    st.tuples(st.just("time_passes"), st.sampled_from([1, 6, 25])),
    st.tuples(st.just("withdraw"), st.sampled_from(["tutor", "student"]),
              st.sampled_from([100, 5000, 7000, 50_000]),
              st.sampled_from(["670000000", "670000003"]), st.booleans()),
    st.tuples(st.just("resolve_refund"), st.sampled_from(["credit", "payout", "waive"])),
)
START = datetime.now(UTC).replace(microsecond=0)
TABLES = ("change_events", "notifications", "action_items", "recordings", "payments", "jobs",
          "webhook_events", "ledger_entries", "ledger_transactions", "ledger_accounts",
          "earnings", "payouts", "operator_actions", "sessions", "parent_links", "profiles")


class Story:
    def __init__(self, api: Any, auth: Any, sandbox: Any, worker: Any, clock: Any,
                 book: Any, pay: Any, checkout: Any, lesson: Any) -> None:
        self.api, self.auth, self.sandbox, self.worker, self.clock = (
            api, auth, sandbox, worker, clock)
        self.book, self.pay, self.checkout, self.record_lesson = book, pay, checkout, lesson
        self.sessions: list[dict[str, Any]] = []

    async def settle_everything(self) -> None:
        await self.sandbox.fapshi.flush()
        await self.worker.drain()
        await self.sandbox.fapshi.flush()
        await self.worker.drain()

    async def run(self, step: tuple[Any, ...]) -> None:
        await getattr(self, step[0])(*step[1:])
        await self.settle_everything()

    async def book_and_pay(self, hours: int, minutes: int) -> None:
        session = await self.book("student", hours_ahead=hours, minutes=minutes, expect=None)
        if "id" not in session:
            return  # the slot was taken: the refusal is the right answer
        self.sessions.append(session)
        payment = await self.pay(session, expect=201)
        if payment["method"] != "credit":
            await self.checkout(payment)

    async def resend_last_webhook(self) -> None:
        if self.sandbox.fapshi.sent:
            self.sandbox.fapshi.held.append(self.sandbox.fapshi.sent[-1])
            self.sandbox.fapshi.release_held()

    def _pick(self, index: int) -> dict[str, Any] | None:
        return self.sessions[index % len(self.sessions)] if self.sessions else None

    async def cancel(self, index: int, who: str) -> None:
        if (session := self._pick(index)) is None:
            return
        await self.api.post(f"/api/sessions/{session['id']}/cancel", json={},
                            headers=self.auth(who))

    async def pay_after_cancel(self) -> None:
        session = await self.book("student", hours_ahead=50, expect=None)
        if "id" not in session:
            return
        self.sessions.append(session)
        payment = await self.pay(session)
        await self.api.post(f"/api/sessions/{session['id']}/cancel", json={},
                            headers=self.auth("student"))
        if payment["method"] != "credit":
            await self.checkout(payment)

    async def lesson_happens(self, index: int) -> None:
        if (session := self._pick(index)) is None:
            return
        seen = (await self.api.get(f"/api/sessions/{session['id']}",
                                   headers=self.auth("student"))).json()
        if seen["status"] == "scheduled":
            await self.record_lesson(session)

    async def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    async def withdraw(self, who: str, amount: int, phone: str, approve: bool) -> None:
        response = await self.api.post("/api/payouts", json={"amount_xaf": amount,
                                                              "phone": phone},
                                       headers=self.auth(who))
        assert response.status_code in (201, 422), response.text
        if response.status_code == 201 and approve:
            await self.api.post(f"/api/admin/payouts/{response.json()['id']}/approve",
                                json={}, headers=self.auth("admin"))

    async def resolve_refund(self, action: str) -> None:
        owed = (await self.api.get("/api/admin/refunds", headers=self.auth("admin"))).json()
        if owed:
            response = await self.api.post(
                f"/api/admin/refunds/{owed[0]['payment_id']}",
                json={"action": action, "reason": "property test", "phone": "670000000"},
                headers=self.auth("admin"))
            assert response.status_code == 204, response.text


async def _reset(rt: Any, sandbox: Any, worker: Any, clock: Any, start: datetime) -> None:
    """Each example starts from the same world: nothing in flight from the last one (even
    one that failed half-way), the same demo users, the same time."""
    for fake in (sandbox.fapshi, sandbox.fathom):
        await fake.flush()
    await worker.drain()
    sandbox.reset()
    clock.set(start)
    async with rt.sessions.begin() as db:
        await db.execute(text("TRUNCATE " + ", ".join(f"prepskul.{t}" for t in TABLES)
                              + " RESTART IDENTITY CASCADE"))
        await seed_demo(db)


async def _check_money_follows_sessions(rt: Any, sandbox: Any) -> None:
    async with rt.sessions() as db:
        held = {owner: int(b) for owner, b in (await db.execute(
            select(LedgerAccount.owner_id, LedgerAccount.balance_xaf)
            .where(LedgerAccount.kind == "clearing"))).all()}
        sessions = (await db.scalars(select(TutoringSession))).all()
        succeeded = (await db.scalars(select(Payout).where(Payout.status == "succeeded"))).all()
    for s in sessions:
        money = held.get(s.id, 0)
        if s.status in ("paid", "scheduled"):
            assert money == s.price_xaf, (s.status, money)
        elif s.status in ("completed", "cancelled", "expired", "declined"):
            assert money == 0, (s.status, money)
    paid_at_fapshi = [t for t in sandbox.fapshi.transactions.values()
                      if t["transType"] == "Payout" and t["status"] == "SUCCESSFUL"]
    assert sorted(t["externalId"] for t in paid_at_fapshi) == sorted(
        p.id.hex for p in succeeded)  # one Fapshi payout per payout, never two


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=10))
async def test_the_ledger_holds_under_any_interleaving(
    api, auth, sandbox, worker, clock, book, pay, checkout, lesson, rt, steps
) -> None:  # type: ignore[no-untyped-def]
    await _reset(rt, sandbox, worker, clock, START)
    story = Story(api, auth, sandbox, worker, clock, book, pay, checkout, lesson)
    for step in steps:
        await story.run(step)
        await assert_ledger_sound(rt)
        await _check_money_follows_sessions(rt, sandbox)
