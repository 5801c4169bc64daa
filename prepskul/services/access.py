"""Who may see which session (students and parents theirs, tutors theirs, admins all), and
who may act on one: the rules the API, the pages and the services share."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ParentLink, Profile, TutoringSession
from prepskul.domain.errors import NotFound
from prepskul.domain.people import Role


def acts_as_tutor(person: Profile, session: TutoringSession) -> bool:
    """Approve, decline: the session's tutor, or an operator."""
    return person.role == Role.ADMIN or person.id == session.tutor_id


def may_pay(person: Profile, session: TutoringSession) -> bool:
    """Whoever booked, the student, or an operator on their behalf."""
    return person.role == Role.ADMIN or person.id in (session.booked_by_id, session.student_id)


def visible_to(profile: Profile) -> ColumnElement[bool]:
    if profile.role == Role.ADMIN:
        return true()
    me = profile.id
    children = select(ParentLink.student_id).where(ParentLink.parent_id == me,
                                                       ParentLink.active())
    return or_(
        TutoringSession.tutor_id == me,
        TutoringSession.student_id == me,
        TutoringSession.booked_by_id == me,
        TutoringSession.student_id.in_(children),
    )


async def session_for(
    db: AsyncSession, profile: Profile, session_id: uuid.UUID, *, lock: bool = False
) -> TutoringSession:
    """The session if the caller may see it; otherwise 404, never 403, so ids of other
    people's sessions reveal nothing."""
    query = select(TutoringSession).where(TutoringSession.id == session_id, visible_to(profile))
    if lock:
        query = query.with_for_update()
    found = (await db.scalars(query)).first()
    if found is None:
        raise NotFound("session_not_found", "There is no session with that id that you can see.")
    return found


async def audience(db: AsyncSession, session: TutoringSession) -> list[uuid.UUID]:
    """Everyone a change to this session concerns: tutor, student, whoever booked, and the
    student's linked parents (admins see everything regardless)."""
    return list(dict.fromkeys([session.tutor_id, *await learner_side(db, session)]))


async def learner_side(db: AsyncSession, session: TutoringSession) -> list[uuid.UUID]:
    """Who speaks for the learner: the student, whoever booked, the student's parents."""
    parents = await db.scalars(
        select(ParentLink.parent_id).where(ParentLink.student_id == session.student_id,
                                          ParentLink.active()))
    return list(dict.fromkeys([session.student_id, session.booked_by_id, *parents]))
