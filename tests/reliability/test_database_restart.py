"""The database restarted while webhooks arrive: every delivery we acknowledged is processed
after recovery; the ones we could not store get a 5xx, which a provider retries."""

import asyncio
from typing import Any

from sqlalchemy import select

from prepskul.db.models import TutoringSession, WebhookEvent
from tests.conftest import FAPSHI_SECRET


async def test_acknowledged_webhooks_survive_a_database_restart(
    api, book, pay, checkout, sandbox, worker, rt, restart_database, roomy_limits
) -> None:  # type: ignore[no-untyped-def]
    sandbox.fapshi.hold_webhooks = True
    sessions = [await book(("student", "child")[n % 2], hours_ahead=24 + 2 * n)
                for n in range(30)]
    for session in sessions:
        await checkout(await pay(session, ("student", "child")[sessions.index(session) % 2]))
    held, sandbox.fapshi.held = sandbox.fapshi.held, []
    answers: dict[str, int] = {}

    async def deliver(body: dict[str, Any]) -> int:
        try:
            response = await api.post("/api/webhooks/fapshi", json=body,
                                      headers={"x-wh-secret": FAPSHI_SECRET})
        except Exception:  # the connection itself failed: the provider would retry
            return 599
        return response.status_code

    async def sender() -> None:
        for body in held:
            answers[body["transId"]] = await deliver(body)
            await asyncio.sleep(0.05)

    sending = asyncio.create_task(sender())
    await asyncio.sleep(0.4)
    await asyncio.to_thread(restart_database)
    await sending
    assert set(answers.values()) <= {200, 500, 503, 599}, answers  # never a 4xx
    refused = [t for t, code in answers.items() if code != 200]
    for body in held:  # the provider retries what we did not acknowledge
        if body["transId"] in refused:
            assert await deliver(body) == 200
    for _ in range(3):
        await worker.drain()
    async with rt.sessions() as db:
        events = (await db.scalars(select(WebhookEvent).where(WebhookEvent.verified))).all()
        statuses = (await db.scalars(select(TutoringSession.status))).all()
    assert sorted(e.delivery_key.split(":")[0] for e in events) == sorted(answers)
    assert {e.state for e in events} == {"processed"}
    assert sorted(statuses) == ["scheduled"] * 30
    print(f"\nrestart: {len(answers) - len(refused)} acknowledged during the restart window, "
          f"{len(refused)} refused with a 5xx and delivered again")
