"""The demo's people: fixed ids, so `prepskul dev-token` can mint tokens for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ParentLink, Profile, WeeklyWindow
from prepskul.domain.people import Role
from prepskul.domain.tutors import TutorStatus

# `prepskul demo`'s tutors teach every day from 07:00 to 21:00 (Douala). Tests and
# benchmarks book at any hour relative to the moment they run, so by default the tutors are
# open around the clock.
DAYTIME = (7 * 60, 21 * 60)
ALL_DAY = (0, 24 * 60)


@dataclass(frozen=True)
class DemoUser:
    key: str
    id: uuid.UUID
    role: Role
    name: str
    email: str
    language: str = "fr"
    subjects: tuple[str, ...] = ()
    hourly_rate_xaf: int | None = None
    requires_approval: bool = False
    levels: tuple[str, ...] = ()
    teaching_languages: tuple[str, ...] = ()
    bio: str = ""


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


DEMO_USERS = (
    DemoUser("tutor", _id(1), Role.TUTOR, "Dr. Ngono", "ngono@tutors.prepskul.test",
             subjects=("Mathematics", "Physics"), hourly_rate_xaf=5000,
             levels=("lower_secondary", "upper_secondary"), teaching_languages=("fr", "en"),
             bio="Maths and physics for the baccalauréat and the GCE."),
    DemoUser("tutor2", _id(2), Role.TUTOR, "Mrs. Fotso", "fotso@tutors.prepskul.test",
             language="en", subjects=("English", "French"), hourly_rate_xaf=4000,
             requires_approval=True, levels=("primary", "lower_secondary"),
             teaching_languages=("en", "fr"), bio="Reading, writing and speaking, in both "
             "official languages."),
    DemoUser("student", _id(3), Role.STUDENT, "Sam Student", "sam@students.prepskul.test",
             language="en"),
    DemoUser("parent", _id(4), Role.PARENT, "Paul Parent", "paul@parents.prepskul.test"),
    DemoUser("child", _id(5), Role.STUDENT, "Awa Child", "awa@students.prepskul.test"),
    DemoUser("admin", _id(6), Role.ADMIN, "Olga Operator", "ops@prepskul.test", language="en"),
)


def demo_user(key: str) -> DemoUser:
    for user in DEMO_USERS:
        if user.key == key:
            return user
    raise KeyError(f"no demo user '{key}': choose from {', '.join(u.key for u in DEMO_USERS)}")


async def seed_demo(db: AsyncSession, *, hours: tuple[int, int] = ALL_DAY) -> None:
    """The demo people; the tutors approved, with weekly `hours` (minutes after midnight)."""
    for u in DEMO_USERS:
        await db.execute(
            insert(Profile).values(
                id=u.id, role=u.role, full_name=u.name, email=u.email, language=u.language,
                subjects=list(u.subjects), hourly_rate_xaf=u.hourly_rate_xaf,
                requires_approval=u.requires_approval, levels=list(u.levels),
                teaching_languages=list(u.teaching_languages), bio=u.bio,
                tutor_status=TutorStatus.APPROVED,
            ).on_conflict_do_nothing(index_elements=["id"])
        )
        held = await db.scalar(select(WeeklyWindow.id).where(WeeklyWindow.tutor_id == u.id))
        if u.role is Role.TUTOR and held is None:  # a restarted demo keeps edited hours
            db.add_all([WeeklyWindow(tutor_id=u.id, weekday=day, start_minute=hours[0],
                                     end_minute=hours[1]) for day in range(7)])
    await db.execute(
        insert(ParentLink).values(parent_id=_id(4), student_id=_id(5)).on_conflict_do_nothing()
    )
