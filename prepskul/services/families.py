"""Families: a parent's children as learners, and invitation codes.

A learner is a `profiles` row with the student role. A child a parent adds has no account
(no Supabase user, no email): the parent manages it (`managed_by_id`) and books, pays and
is told for it. A child with an account of their own becomes linked by accepting a code
the parent made. When the code was made for a learner the parent added, the child's
account *takes over* that learner: its sessions move to the account (`student_id`), the
parents' links follow, and the old row points at the account (`merged_into_id`) — so the
child sees their whole history, and nothing is recorded twice. Unlinking ends a link and
keeps every session, note and payment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Invitation, ParentLink, Plan, Profile, TutoringSession
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from prepskul.domain.families import (
    CodeState,
    check_usable,
    child_name,
    code_digest,
    new_code,
    school_name,
)
from prepskul.domain.people import Language, Role
from prepskul.domain.throttle import Rate, RateLimited
from prepskul.domain.tutors import Level
from prepskul.runtime import Runtime
from prepskul.services import throttle


def _parent(person: Profile) -> None:
    if person.role != Role.PARENT:
        raise NotAllowed("parents_only", "Only a parent account has children.")


async def children(db: AsyncSession, parent: Profile) -> list[Profile]:
    """The parent's children in force, by name."""
    _parent(parent)
    return list((await db.scalars(
        select(Profile).join(ParentLink, ParentLink.student_id == Profile.id)
        .where(ParentLink.parent_id == parent.id, ParentLink.active())
        .order_by(Profile.full_name, Profile.id))).all())


async def child_of(db: AsyncSession, parent: Profile, child_id: uuid.UUID, *,
                   lock: bool = False) -> Profile:
    """One of the parent's children in force; 404 for anyone else's (ids reveal nothing)."""
    _parent(parent)
    query = (select(Profile).join(ParentLink, ParentLink.student_id == Profile.id)
             .where(ParentLink.parent_id == parent.id, ParentLink.student_id == child_id,
                    ParentLink.active()))
    if lock:
        query = query.with_for_update(of=Profile)
    child = (await db.scalars(query)).first()
    if child is None:
        raise NotFound("child_not_found", "You have no child with that id.")
    return child


def has_account(child: Profile) -> bool:
    return child.managed_by_id is None


async def add_child(db: AsyncSession, parent: Profile, *, full_name: str,
                    level: Level | None = None, school: str | None = None,
                    language: Language | None = None) -> Profile:
    """A learner with no account, managed by the parent, in the parent's zone."""
    _parent(parent)
    child = Profile(id=uuid.uuid4(), role=Role.STUDENT, full_name=child_name(full_name),
                    level=level, school=school_name(school),
                    language=language or parent.language, time_zone=parent.time_zone,
                    managed_by_id=parent.id, notify_email=False, notify_push=False,
                    subjects=[], levels=[], teaching_languages=[])
    db.add(child)
    await db.flush()
    db.add(ParentLink(parent_id=parent.id, student_id=child.id))
    return child


async def edit_child(db: AsyncSession, parent: Profile, child_id: uuid.UUID,
                     changes: dict[str, Any]) -> Profile:
    """Change what was sent. A child with an account of their own keeps their details."""
    child = await child_of(db, parent, child_id, lock=True)
    if child.managed_by_id != parent.id:
        raise Conflict("child_has_account",
                       "This child has an account of their own and edits their own details.")
    if "full_name" in changes:
        child.full_name = child_name(changes["full_name"])
    if "school" in changes:
        child.school = school_name(changes["school"])
    if "level" in changes:
        child.level = changes["level"]
    if "language" in changes:
        if changes["language"] is None:
            raise InvalidInput("value_required", "language cannot be empty.")
        child.language = changes["language"]
    return child


async def unlink(db: AsyncSession, rt: Runtime, parent: Profile, child_id: uuid.UUID) -> None:
    """End the link (history stays) and withdraw the parent's open codes for the child."""
    await child_of(db, parent, child_id, lock=True)
    now = rt.clock.now()
    await db.execute(update(ParentLink).where(
        ParentLink.parent_id == parent.id, ParentLink.student_id == child_id,
        ParentLink.active()).values(ended_at=now))
    await db.execute(update(Invitation).where(
        Invitation.parent_id == parent.id, Invitation.learner_id == child_id,
        Invitation.used_at.is_(None), Invitation.revoked_at.is_(None)).values(revoked_at=now))


@dataclass(frozen=True)
class NewInvitation:
    code: str  # shown once: only its digest is kept
    invitation: Invitation


def invitation_rate(rt: Runtime) -> Rate:
    per_hour = rt.settings.invitation_attempts_per_hour
    return Rate(per_hour=per_hour, burst=per_hour)


async def _spend(rt: Runtime, key: str, what: str) -> None:
    admission = await throttle.spend(rt, key, invitation_rate(rt))
    if not admission.allowed:
        raise RateLimited("too_many_attempts",
                          f"Too many {what} from your account; try again later.",
                          admission.retry_after)


async def invite(db: AsyncSession, rt: Runtime, parent: Profile,
                 child_id: uuid.UUID | None) -> NewInvitation:
    """A code for a child to accept with their own account: for a learner the parent added
    (`child_id`), or, without one, to link a child who is not listed yet. A new code for a
    learner withdraws the learner's earlier open ones."""
    _parent(parent)
    await _spend(rt, f"invite-make:{parent.id}", "invitation codes")
    now = rt.clock.now()
    if child_id is not None:
        child = await child_of(db, parent, child_id, lock=True)
        if has_account(child):
            raise Conflict("child_has_account", "This child is already linked with their own "
                           "account.")
        await db.execute(update(Invitation).where(
            Invitation.parent_id == parent.id, Invitation.learner_id == child_id,
            Invitation.used_at.is_(None), Invitation.revoked_at.is_(None)
        ).values(revoked_at=now))
    code = new_code()
    invitation = Invitation(
        id=uuid.uuid4(), code_digest=code_digest(code), parent_id=parent.id,
        learner_id=child_id,
        expires_at=now + timedelta(hours=rt.settings.invitation_valid_hours))
    db.add(invitation)
    await db.flush()
    return NewInvitation(code, invitation)


async def accept(db: AsyncSession, rt: Runtime, person: Profile, code: str) -> Profile:
    """The child, signed in with their own account, accepts a code; returns the parent.
    Every attempt counts against the person's rate first, valid or not."""
    await _spend(rt, f"invite-try:{person.id}", "invitation code attempts")
    digest = code_digest(code)
    invitation = (await db.scalars(select(Invitation).where(
        Invitation.code_digest == digest))).first()
    if invitation is None:
        raise NotFound("invitation_not_found", "There is no invitation with that code.")
    if invitation.learner_id is not None:  # the learner before the code, as a new code
        await db.get(Profile, invitation.learner_id, with_for_update=True)  # and unlink do
    await db.refresh(invitation, with_for_update=True)
    now = rt.clock.now()
    check_usable(CodeState(invitation.expires_at, invitation.used_at, invitation.revoked_at),
                 now)
    if person.role != Role.STUDENT:
        raise NotAllowed("students_only",
                         "An invitation is accepted by the child, signed in as a student.")
    parent = await db.get(Profile, invitation.parent_id)
    assert parent is not None
    if invitation.learner_id is not None:
        await _take_over(db, now, invitation.learner_id, person)
    elif await _linked(db, parent.id, person.id):
        raise Conflict("already_linked", "Your account is already linked to this parent.")
    await _link(db, parent.id, person.id)
    invitation.used_at, invitation.used_by_id = now, person.id
    return parent


async def _linked(db: AsyncSession, parent_id: uuid.UUID, child_id: uuid.UUID) -> bool:
    found = await db.scalar(select(ParentLink.parent_id).where(
        ParentLink.parent_id == parent_id, ParentLink.student_id == child_id,
        ParentLink.active()))
    return found is not None


async def _link(db: AsyncSession, parent_id: uuid.UUID, child_id: uuid.UUID) -> None:
    """Link, or link again (an ended link comes back into force)."""
    await db.execute(insert(ParentLink).values(parent_id=parent_id, student_id=child_id)
                     .on_conflict_do_update(index_elements=["parent_id", "student_id"],
                                            set_={"ended_at": None}))


async def _take_over(db: AsyncSession, now: datetime, learner_id: uuid.UUID, account: Profile
                     ) -> None:
    """The account becomes the learner: sessions and parents' links move to it, its empty
    details are filled from the learner's, and the learner row points at it."""
    learner = await db.get(Profile, learner_id, with_for_update=True)
    assert learner is not None  # the code's row cascades with it
    if learner.merged_into_id is not None:
        raise Conflict("invitation_used", "This learner is already linked to an account.")
    for owned in (TutoringSession, Plan):  # every table whose rows name the learner
        await db.execute(update(owned).where(owned.student_id == learner.id)
                         .values(student_id=account.id))
    parents = (await db.scalars(select(ParentLink.parent_id).where(
        ParentLink.student_id == learner.id, ParentLink.active()))).all()
    for parent_id in parents:
        await _link(db, parent_id, account.id)
    await db.execute(update(ParentLink).where(
        ParentLink.student_id == learner.id, ParentLink.active()).values(ended_at=now))
    account.level = account.level or learner.level
    account.school = account.school or learner.school
    learner.merged_into_id = account.id
