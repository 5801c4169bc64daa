"""The webhook inbox's group commit: deliveries that arrive together are stored together,
each sender learns what happened to its own delivery, and a broken connection costs only the
batch it was carrying."""

import asyncio
import dataclasses

import asyncpg
import pytest
from sqlalchemy import func, select

from prepskul.db.engine import plain_dsn
from prepskul.db.models import Job, WebhookEvent
from prepskul.services.inbox import Delivery
from prepskul.services.inbox_writer import InboxWriter


def _delivery(n: int) -> Delivery:
    return Delivery("fapshi", {"content-type": "application/json"},
                    f'{{"transId": "tx{n:08d}", "status": "SUCCESSFUL"}}'.encode(), "127.0.0.1")


async def _count(rt, model) -> int:  # type: ignore[no-untyped-def]
    async with rt.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_burst_is_stored_once_per_delivery_and_resends_inside_it_are_duplicates(
    rt,
) -> None:  # type: ignore[no-untyped-def]
    writer = InboxWriter(rt)
    keys = [f"tx{n % 40:08d}:SUCCESSFUL" for n in range(50)]  # 10 resends within the burst
    try:
        answers = await asyncio.gather(*(writer.accept(_delivery(n % 40), delivery_key=key)
                                         for n, key in enumerate(keys)))
    finally:
        await writer.close()
    new_ids = [event_id for event_id, new in answers if new]
    assert len(new_ids) == 40 and len(set(new_ids)) == 40
    assert sum(not new for _, new in answers) == 10
    assert await _count(rt, WebhookEvent) == 40
    assert await _count(rt, Job) == 40  # one processing job per stored delivery, none per resend


async def test_a_broken_connection_fails_only_its_batch_and_the_next_one_reconnects(
    rt,
) -> None:  # type: ignore[no-untyped-def]
    writer = InboxWriter(rt)
    try:
        await writer.accept(_delivery(1), delivery_key="first")
        (held,) = writer._idle  # the writer's own connection, kept between batches
        admin = await asyncpg.connect(plain_dsn(rt.database_url))
        await admin.execute("SELECT pg_terminate_backend($1)", held.get_server_pid())
        await admin.close()
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver makes of it
            await writer.accept(_delivery(2), delivery_key="second")  # the sender gets a 5xx
        event_id, new = await writer.accept(_delivery(2), delivery_key="second")  # its retry
    finally:
        await writer.close()
    assert new and event_id is not None
    assert await _count(rt, WebhookEvent) == 2


async def test_a_sender_that_gives_up_mid_batch_does_not_strand_the_others(
    rt,
) -> None:  # type: ignore[no-untyped-def]
    writer = InboxWriter(rt)
    try:
        senders = [asyncio.create_task(writer.accept(_delivery(n), delivery_key=f"k{n}"))
                   for n in range(3)]
        await asyncio.sleep(0)  # all three queued, one batch being written
        senders[0].cancel()  # its client hung up
        answers = await asyncio.wait_for(asyncio.gather(*senders[1:]), timeout=5)
    finally:
        await writer.close()
    assert [new for _, new in answers] == [True, True]
    assert await _count(rt, WebhookEvent) == 3  # the one that left was stored all the same


async def test_with_a_transaction_pooler_in_front_the_writer_still_stores(
    rt,
) -> None:  # type: ignore[no-untyped-def]
    settings = rt.settings.model_copy(update={"database_pool_mode": "transaction",
                                              "database_listen_url": rt.database_url})
    writer = InboxWriter(dataclasses.replace(rt, settings=settings))
    try:  # several statements on one connection, none of them a cached prepared statement
        answers = [await writer.accept(_delivery(n), delivery_key=f"pooled{n}")
                   for n in range(3)]
    finally:
        await writer.close()
    assert [new for _, new in answers] == [True, True, True]
    assert await _count(rt, WebhookEvent) == 3
