"""A worker killed (SIGKILL) while Fapshi is creating a payout: the payout happened at
Fapshi but the worker never heard. The next worker looks the payout up by its externalId
before sending, adopts it, and confirms it — paid once, the ledger balanced."""

import asyncio
import signal
from typing import Any

from sqlalchemy import func, select, text

from prepskul.db.models import Job, Payout
from tests.integration.money_checks import assert_ledger_sound, balance
from tests.reliability.test_worker_killed import start_worker, survive


async def _running(rt: Any, kind: str) -> bool:
    async with rt.sessions() as db:
        return bool(await db.scalar(select(func.count()).select_from(Job).where(
            Job.kind == kind, Job.status == "running")))


def _payouts_at_fapshi(sandbox: Any) -> list[dict[str, Any]]:
    return [t for t in sandbox.fapshi.transactions.values() if t["transType"] == "Payout"]


async def test_killed_while_fapshi_creates_the_payout(
    api, auth, earned, sandbox, settings, database_url, tmp_path, rt, clock, worker
) -> None:  # type: ignore[no-untyped-def]
    session = await earned()
    asked = await api.post("/api/payouts", json={"amount_xaf": 5000, "phone": "670000000"},
                           headers=auth("tutor"))
    payout_id = asked.json()["id"]
    await api.post(f"/api/admin/payouts/{payout_id}/approve", json={}, headers=auth("admin"))
    async with rt.sessions.begin() as db:  # the worker process runs on the real clock
        await db.execute(text("UPDATE prepskul.jobs SET run_at = now()"
                              " WHERE kind = 'send_payout'"))
    sandbox.fapshi.payout_answer_delay = 30  # Fapshi makes the payout, answers late
    proc = await start_worker(settings, database_url, tmp_path)
    try:
        for _ in range(600):  # until the payout exists at Fapshi, its answer on the way
            if _payouts_at_fapshi(sandbox):
                break
            await asyncio.sleep(0.05)
        assert await _running(rt, "send_payout")
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    sandbox.fapshi.payout_answer_delay = 0
    assert len(_payouts_at_fapshi(sandbox)) == 1
    await survive(rt, clock, worker)
    await sandbox.fapshi.flush()
    await worker.drain()
    async with rt.sessions() as db:
        payout = (await db.scalars(select(Payout))).one()
    assert payout.status == "succeeded" and payout.trans_id
    assert [t["transId"] for t in _payouts_at_fapshi(sandbox)] == [payout.trans_id]  # adopted
    assert await balance(rt, "tutor_available", session["tutor_id"]) == 3500
    await assert_ledger_sound(rt)
