"""A parent booking for two children: the second child's sessions in the same month get the
sibling discount; the first child's, and another month's, do not."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prepskul.db.models import ParentLink, Profile
from prepskul.domain.people import Role
from prepskul.services.demo import demo_user


async def test_the_second_child_of_the_month_gets_the_sibling_discount(
    api, auth, rt, clock
) -> None:  # type: ignore[no-untyped-def]
    parent = demo_user("parent")
    second = uuid.uuid4()
    async with rt.sessions.begin() as db:
        db.add(Profile(id=second, role=Role.STUDENT, full_name="Bi Child"))
        await db.flush()
        db.add(ParentLink(parent_id=parent.id, student_id=second))
    local = clock.now().astimezone(ZoneInfo("Africa/Douala"))
    month = (local.replace(day=1, hour=10, minute=0, second=0, microsecond=0)
             + timedelta(days=40)).replace(day=10)

    async def book(child: Any, when: datetime) -> int:
        response = await api.post("/api/sessions", headers=auth("parent"), json={
            "tutor_id": str(demo_user("tutor").id), "subject": "Mathematics", "minutes": 60,
            "starts_at": when.isoformat(), "student_id": str(child)})
        assert response.status_code == 201, response.text
        price: int = response.json()["price_xaf"]
        return price

    assert await book(demo_user("child").id, month) == 5000
    quoted = (await api.get(f"/api/tutors/{demo_user('tutor').id}/quote", headers=auth("parent"),
                            params={"student_id": str(second),
                                    "starts_at": (month + timedelta(hours=2)).isoformat()})).json()
    assert (quoted["price_xaf"], quoted["sibling_discount_xaf"]) == (4250, 750)
    assert await book(second, month + timedelta(hours=2)) == 4250  # 15 % off, as quoted
    next_month = (month + timedelta(days=32)).replace(day=10)
    assert await book(second, next_month) == 5000  # a new month: the first child again
