"""The floor for payment to Meet: what any correct implementation must do between Fapshi's
webhook landing in the inbox and the Meet link reaching the people concerned, written with
bare asyncpg and httpx — no ORM, no job queue, no retries, no logging. Benchmark-only;
never part of the service.

It makes the same three provider calls as the worker (payment-status, events.insert, one
re-read of the pending conference) against the same fakes, and the same durable writes, in
two transactions: the payment and its ledger posting, the session paid, its change event
and the in-app notifications (with theirs), the delivery marked processed; then the Meet
link, its change event and notifications. It learns of a delivery from the NOTIFY that the
inbox's job row sends (it reads the inbox, never the job), keeps one connection per
session in flight from a pool, and reads each session's people once.

Run as `python -m bench.pay_to_meet_floor` with DATABASE_URL and PUBLIC_BASE_URL (the
`serve` whose fakes it calls) set; it runs until SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import traceback
import uuid
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx

from prepskul.db.engine import connect_args, plain_dsn
from prepskul.providers.fapshi import TEST_KEY_PREFIX
from prepskul.providers.google_calendar.credentials import SANDBOX_TOKEN
from prepskul.providers.google_calendar.models import conference_of, event_body, event_id_for
from prepskul.services.messages import render

_NEW_DELIVERIES = """
    SELECT id, body FROM prepskul.webhook_events
     WHERE provider = 'fapshi' AND state = 'received' AND id > $1 ORDER BY id"""
_PAYMENT = """
    SELECT id, session_id, amount_xaf, status FROM prepskul.payments
     WHERE trans_id = $1 FOR UPDATE"""
_SESSION = """
    SELECT id, tutor_id, student_id, booked_by_id, subject, kind, starts_at, ends_at, time_zone,
           status, meet_state, meet_link, recording_state
      FROM prepskul.sessions WHERE id = $1 FOR UPDATE"""
_PEOPLE = """
    SELECT id, email, language, time_zone FROM prepskul.profiles WHERE id = ANY($1::uuid[])"""
_ACCOUNT = """
    INSERT INTO prepskul.ledger_accounts (kind, owner_id, may_go_negative, balance_xaf)
    VALUES ($1, $2, $3, 0) ON CONFLICT ON CONSTRAINT uq_ledger_accounts_kind_owner DO NOTHING
    RETURNING id"""
_ACCOUNT_MADE = """
    SELECT id FROM prepskul.ledger_accounts WHERE kind = $1 AND owner_id IS NOT DISTINCT FROM $2"""
_CHANGE = """
    INSERT INTO prepskul.change_events (type, session_id, audience, data)
    VALUES ($1, $2, $3, $4::jsonb)"""
_NOTIFY = """
    INSERT INTO prepskul.notifications (user_id, session_id, kind, title, body, data, dedupe_key)
    SELECT u, $1, $2, t, b, $3::jsonb, d
      FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[]) AS x(u, t, b, d)
    ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, user_id, title"""
_NOTIFIED = """
    INSERT INTO prepskul.change_events (type, session_id, audience, data)
    SELECT 'notification.created', $1, ARRAY[u], jsonb_build_object(
           'notification_id', n::text, 'kind', $2::text, 'title', t)
      FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS x(n, u, t)"""


class Floor:
    def __init__(self, pool: asyncpg.Pool, http: httpx.AsyncClient, base: str) -> None:
        self.pool, self.http = pool, http
        self.fapshi = f"{base}/sandbox/fapshi"
        self.calendar = f"{base}/sandbox/google/calendar/v3/calendars/primary/events"
        self.fapshi_headers = {"apiuser": "sandbox-user", "apikey": f"{TEST_KEY_PREFIX}sandbox"}
        self.google_headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        self.seen = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def deliveries(self, conn: asyncpg.Connection) -> None:
        """Every new delivery in the inbox, each handled in a task of its own."""
        for row in await conn.fetch(_NEW_DELIVERIES, self.seen):
            self.seen = max(self.seen, row["id"])
            task = asyncio.create_task(self.process(row["id"], json.loads(row["body"])))
            self.tasks.add(task)
            task.add_done_callback(self.done)

    def done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception():  # a floor that fails is no floor
            traceback.print_exception(task.exception(), file=sys.stderr)

    async def process(self, event_id: int, body: dict[str, Any]) -> None:
        trans_id = str(body["transId"])
        tx = (await self.http.get(f"{self.fapshi}/payment-status/{trans_id}",
                                  headers=self.fapshi_headers)).json()
        session, people = await self.paid(event_id, trans_id, tx)
        event = (await self.http.post(
            self.calendar, params={"conferenceDataVersion": 1, "sendUpdates": "all"},
            headers=self.google_headers, json=event_body(
                event_id=event_id_for(str(session["id"])),
                summary=f"Session: {session['subject']}",
                description=f"PrepSkul session page: /sessions/{session['id']}",
                starts_at=session["starts_at"], ends_at=session["ends_at"],
                time_zone=session["time_zone"],
                attendees=[p["email"] for p in people if p["email"]],
                va_email="va@prepskul.test", request_id=uuid.uuid4().hex))).json()
        conference = conference_of(event)
        if conference.state == "pending":  # re-read at once, as the worker does
            event = (await self.http.get(f"{self.calendar}/{event['id']}",
                                         headers=self.google_headers)).json()
            conference = conference_of(event)
        await self.meet_ready(session, people, event["id"], conference.link)

    async def paid(self, event_id: int, trans_id: str, tx: dict[str, Any]
                   ) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
        async with self.pool.acquire() as conn, conn.transaction():
            payment = await conn.fetchrow(_PAYMENT, trans_id)
            session = await conn.fetchrow(_SESSION, payment["session_id"])
            await conn.execute(
                "UPDATE prepskul.payments SET status = $2, checks = checks + 1,"
                " confirmed_at = now(), closed_at = now(), updated_at = now() WHERE id = $1",
                payment["id"], tx["status"])
            outside = await self.account(conn, "outside", None, may_go_negative=True)
            clearing = await self.account(conn, "clearing", session["id"])
            txn = await conn.fetchval(
                "INSERT INTO prepskul.ledger_transactions (key, kind, memo, session_id,"
                " created_at) VALUES ($1, 'collect', $2, $3, now()) RETURNING id",
                f"collect:{trans_id}", f"Fapshi {trans_id}", session["id"])
            await conn.executemany(
                "INSERT INTO prepskul.ledger_entries (transaction_id, account_id, amount_xaf)"
                " VALUES ($1, $2, $3)",
                [(txn, outside, -tx["amount"]), (txn, clearing, tx["amount"])])
            session = await conn.fetchrow(
                "UPDATE prepskul.sessions SET status = 'paid', hold_expires_at = NULL,"
                " meet_state = 'pending', updated_at = now() WHERE id = $1 RETURNING *",
                session["id"])
            people = await self.audience(conn, session)
            await self.change(conn, session, people, "session.paid", trans_id=trans_id)
            await self.notify(conn, session, people, "paid")
            await conn.execute(
                "UPDATE prepskul.webhook_events SET state = 'processed', processed_at = now(),"
                " error = 'successful: session paid', attempts = attempts + 1 WHERE id = $1",
                event_id)
        return session, people

    async def meet_ready(self, session: asyncpg.Record, people: list[asyncpg.Record],
                         calendar_event_id: str, link: str | None) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            session = await conn.fetchrow(
                "UPDATE prepskul.sessions SET meet_link = $2, meet_state = 'ready',"
                " calendar_event_id = $3, recording_state = 'awaiting', status = 'scheduled',"
                " updated_at = now() WHERE id = $1 RETURNING *",
                session["id"], link, calendar_event_id)
            await self.change(conn, session, people, "meet.ready")
            await self.notify(conn, session, people, "meet_ready")

    @staticmethod
    async def account(conn: asyncpg.Connection, kind: str, owner: uuid.UUID | None, *,
                      may_go_negative: bool = False) -> int:
        """Created on first use; made by someone else meanwhile, it is read (a statement of
        its own: the insert's snapshot does not see a row committed while it waited)."""
        made = await conn.fetchval(_ACCOUNT, kind, owner, may_go_negative)
        return int(made if made is not None else await conn.fetchval(_ACCOUNT_MADE, kind, owner))

    @staticmethod
    async def audience(conn: asyncpg.Connection, session: asyncpg.Record
                       ) -> list[asyncpg.Record]:
        parents = [r[0] for r in await conn.fetch(
            "SELECT parent_id FROM prepskul.parent_links WHERE student_id = $1",
            session["student_id"])]
        ids = list(dict.fromkeys([session["tutor_id"], session["student_id"],
                                  session["booked_by_id"], *parents]))
        return list(await conn.fetch(_PEOPLE, ids))

    @staticmethod
    async def change(conn: asyncpg.Connection, session: asyncpg.Record,
                     people: list[asyncpg.Record], kind: str, **extra: Any) -> None:
        data = {"status": session["status"], "meet_state": session["meet_state"],
                "meet_link": session["meet_link"], "recording_state": session["recording_state"],
                "starts_at": session["starts_at"].isoformat(),
                "ends_at": session["ends_at"].isoformat(), **extra}
        await conn.execute(_CHANGE, kind, session["id"], [p["id"] for p in people],
                           json.dumps(data))

    @staticmethod
    async def notify(conn: asyncpg.Connection, session: asyncpg.Record,
                     people: list[asyncpg.Record], kind: str) -> None:
        about = SimpleNamespace(subject=session["subject"], starts_at=session["starts_at"])
        texts = [render(kind, p["language"], about, p["time_zone"])  # type: ignore[arg-type]
                 for p in people]
        created = await conn.fetch(
            _NOTIFY, session["id"], kind, json.dumps({"status": session["status"]}),
            [p["id"] for p in people], [t for t, _ in texts], [b for _, b in texts],
            [f"notify:{kind}:{session['id']}:{p['id']}:" for p in people])
        await conn.execute(_NOTIFIED, session["id"], kind, [r["id"] for r in created],
                           [r["user_id"] for r in created], [r["title"] for r in created])


async def main() -> None:
    url = plain_dsn(os.environ["DATABASE_URL"])
    pool = await asyncpg.create_pool(url, min_size=10, max_size=20, **connect_args("direct"))
    listener = await asyncpg.connect(url)
    stop, wake = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with httpx.AsyncClient(timeout=30) as http:
        floor = Floor(pool, http, os.environ["PUBLIC_BASE_URL"])
        floor.seen = await listener.fetchval(
            "SELECT coalesce(max(id), 0) FROM prepskul.webhook_events")
        await listener.add_listener("prepskul_jobs", lambda *_: wake.set())
        while not stop.is_set():
            wake.clear()
            async with pool.acquire() as conn:
                await floor.deliveries(conn)
            waits = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
        if floor.tasks:
            await asyncio.wait(floor.tasks)
    await listener.close()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
