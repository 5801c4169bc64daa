"""The slot-squatting attack of issue 15, replayed: a brand-new student account fires 239
three-hour bookings with one tutor in a few seconds, never paying, spread over two `serve`
processes. Before, all 239 were accepted and held 30 days of the tutor's time until each
start. Now the rate limit (shared through Postgres by both processes) and the cap on open
unpaid bookings let through three, held for 30 minutes; a real student books around them at
once and on top of them once they lapse."""

import asyncio
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from prepskul.api.auth import mint_token
from prepskul.db.models import Notification, TutoringSession
from prepskul.domain.people import Role
from prepskul.services.demo import demo_user
from tests.conftest import JWT_SECRET
from tests.reliability.test_scale_out import fleet

pytestmark = pytest.mark.slow

ATTEMPTS = 239
HOURS = 3


async def test_a_new_account_cannot_squat_a_tutor_s_month(
    settings, database_url, tmp_path, sandbox, rt, api, auth, clock, figures
) -> None:  # type: ignore[no-untyped-def]
    attacker = {"Authorization": "Bearer " + mint_token(JWT_SECRET, uuid.uuid4(),
                                                        role=Role.STUDENT)}
    first = (clock.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    starts = [first + timedelta(hours=HOURS * n) for n in range(ATTEMPTS)]
    async with fleet(settings, database_url, tmp_path, workers=0) as servers:
        await servers[0].get("/api/me", headers=attacker)  # the account is brand new
        gate = asyncio.Semaphore(8)  # ~1,400 attempts a minute; the machine's Postgres is shared

        async def attempt(n: int) -> tuple[int, str]:
            async with gate:
                answer = await servers[n % 2].post("/api/sessions", headers=attacker, json={
                    "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
                    "minutes": HOURS * 60, "starts_at": starts[n].isoformat()})
            body = answer.json()
            return answer.status_code, body.get("code") or body["status"]

        began = time.monotonic()
        answers = await asyncio.gather(*(attempt(n) for n in range(ATTEMPTS)))
        attack_s = time.monotonic() - began

    tally = Counter(answers)
    assert tally == {(201, "awaiting_payment"): 3, (409, "too_many_unpaid_bookings"): 17,
                     (429, "too_many_booking_attempts"): ATTEMPTS - 20}, tally
    async with rt.sessions() as db:
        held = list(await db.scalars(select(TutoringSession).where(
            TutoringSession.status == "awaiting_payment")))
        told = await db.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == demo_user("tutor").id))
    held_hours = sum((s.ends_at - s.starts_at).total_seconds() / 3600 for s in held)
    longest = max(s.hold_expires_at - s.created_at for s in held)
    assert held_hours == 3 * HOURS and longest <= timedelta(minutes=31)
    assert told == 3

    # A real student books the attacker's fourth time at once, and the first once it lapsed
    # (no sweep has run: the lapsed hold simply gives way).
    async def victim(start: datetime) -> int:
        answer = await api.post("/api/sessions", headers=auth("student"), json={
            "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics",
            "minutes": HOURS * 60, "starts_at": start.isoformat()})
        return answer.status_code

    squatted = sorted(s.starts_at for s in held)
    free = next(s for s in starts if s not in squatted)
    began = time.monotonic()
    assert await victim(free) == 201
    victim_ms = (time.monotonic() - began) * 1000
    assert await victim(squatted[0]) == 409
    clock.set(max(s.hold_expires_at for s in held) + timedelta(seconds=1))
    assert await victim(squatted[0]) == 201

    figures(tried=ATTEMPTS, attack_s=attack_s, accepted=tally[(201, "awaiting_payment")],
            refused_unpaid_cap=tally[(409, "too_many_unpaid_bookings")],
            refused_rate=tally[(429, "too_many_booking_attempts")],
            tutor_hours_held=held_hours, tutor_hours_held_before=ATTEMPTS * HOURS,
            held_at_most_min=30, tutor_notified=told, victim_waited_s=victim_ms / 1000)
