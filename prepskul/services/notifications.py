"""Notifications: one in-app row per person and occasion, written with the change that
causes it, then email and push as separate jobs, so a dead channel never blocks the others.
Every step is idempotent: the row's unique key, the jobs' dedupe keys, and the per-channel
`*_at` stamps."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import Notification, Profile, TutoringSession
from prepskul.domain.errors import NotFound
from prepskul.domain.lifecycle import AWAITING_LESSON
from prepskul.domain.people import Role
from prepskul.providers.fcm.client import UnregisteredToken
from prepskul.queue import store
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime
from prepskul.services import feed, holds
from prepskul.services.access import audience
from prepskul.services.links import page_url, session_url
from prepskul.services.messages import email_message, render, render_plan, render_tutor

REMINDERS = {"24h": timedelta(hours=24), "15min": timedelta(minutes=15)}


def _in_app(session: TutoringSession, person: Profile, kind: str, occasion: str
            ) -> dict[str, object]:
    """One person's notification row, in their language and time zone."""
    title, body = render(kind, person.language, session, person.time_zone)
    return {"user_id": person.id, "session_id": session.id, "kind": kind, "title": title,
            "body": body, "data": {"status": session.status},
            "dedupe_key": f"notify:{kind}:{session.id}:{person.id}:{occasion}"}


async def notify_people(
    db: AsyncSession, rt: Runtime, session: TutoringSession, kind: str, *, occasion: str = "",
    to: Collection[uuid.UUID] | None = None,
) -> None:
    """Tell everyone concerned (or only `to`), in the caller's transaction: the in-app
    notification is a row like the change itself (no job, so it exists exactly when the
    change does), and each outside channel is a job of its own. `occasion` distinguishes
    repeats of one kind (a second reschedule is news; a resend of the first is not)."""
    people = (await db.scalars(select(Profile).where(Profile.id.in_(
        await audience(db, session) if to is None else to)))).all()
    rows = [_in_app(session, person, kind, occasion) for person in people]
    await _write(db, rt, list(people), rows, session.id)


async def notify_about_tutor(
    db: AsyncSession, rt: Runtime, people: list[Profile], tutor: Profile, kind: str,
    *, occasion: str, reason: str | None = None,
) -> None:
    """A change to a tutor's profile, told to the tutor or to the operators: not about a
    session, so its links lead to the tutor's page (operators: the console)."""
    rows = []
    for person in people:
        title, body = render_tutor(kind, person.language, tutor.full_name, reason)
        path = "/ops/tutors" if person.role == Role.ADMIN else "/tutor"
        rows.append({"user_id": person.id, "session_id": None, "kind": kind, "title": title,
                     "body": body, "data": {"tutor_id": str(tutor.id), "path": path},
                     "dedupe_key": f"notify:{kind}:{tutor.id}:{person.id}:{occasion}"})
    await _write(db, rt, people, rows, None)


async def notify_about_plan(
    db: AsyncSession, rt: Runtime, people: Collection[uuid.UUID], plan_id: uuid.UUID,
    kind: str, subject: str, *, occasion: str = "",
    detail: Callable[[Profile], str] = lambda _: "",
) -> None:
    """A change to a plan or its invoices, told in each person's language (`detail` is
    written for the person: their zone and language); its links lead to the plan's page."""
    found = (await db.scalars(select(Profile).where(Profile.id.in_(people)))).all()
    rows = []
    for person in found:
        title, body = render_plan(kind, person.language, subject, detail(person))
        rows.append({"user_id": person.id, "session_id": None, "kind": kind, "title": title,
                     "body": body, "data": {"plan_id": str(plan_id), "path": f"/plans/{plan_id}"},
                     "dedupe_key": f"notify:{kind}:{plan_id}:{person.id}:{occasion}"})
    await _write(db, rt, list(found), rows, None)


async def operators(db: AsyncSession) -> list[Profile]:
    return list((await db.scalars(select(Profile).where(Profile.role == Role.ADMIN))).all())


async def _write(db: AsyncSession, rt: Runtime, people: list[Profile],
                 rows: list[dict[str, Any]], session_id: uuid.UUID | None) -> None:
    if not rows:
        return
    by_id = {person.id: person for person in people}
    created = (await db.execute(  # one statement for everyone; the already told are skipped
        insert(Notification).values(rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notification.id, Notification.user_id, Notification.kind,
                   Notification.title))).all()
    now = rt.clock.now()
    for notification_id, user_id, kind, title in created:
        person = by_id[user_id]
        feed.record_private(db, "notification.created", [user_id], {
            "notification_id": str(notification_id), "kind": kind, "title": title},
            session_id=session_id)
        if rt.mailer and person.notify_email and person.email:
            await store.enqueue(db, JobKind.SEND_EMAIL, {"notification_id": str(notification_id)},
                                now=now, dedupe_key=f"email:{notification_id}")
        if rt.push and person.notify_push and person.push_token:
            await store.enqueue(db, JobKind.SEND_PUSH, {"notification_id": str(notification_id)},
                                now=now, dedupe_key=f"push:{notification_id}")


async def _unsent(
    rt: Runtime, notification_id: uuid.UUID, channel: str
) -> tuple[Notification, Profile, str] | None:
    """The notification, its person and their address on `channel` (email | push_token),
    unless that channel already delivered it or the person has no address there."""
    async with rt.sessions() as db:
        note = await db.get(Notification, notification_id)
        person = await db.get(Profile, note.user_id) if note else None
    stamp = {"email": "emailed_at", "push_token": "pushed_at"}[channel]
    if note is None or person is None or getattr(note, stamp) is not None:
        return None
    address = getattr(person, channel)
    return (note, person, address) if address else None


async def _delivered(rt: Runtime, note: Notification, **stamp: object) -> None:
    async with rt.sessions.begin() as db:
        await db.execute(update(Notification).where(Notification.id == note.id).values(**stamp))


def link_for(rt: Runtime, note: Notification) -> str:
    """The page a notification is about: its session's, or the one it names."""
    if note.session_id:
        return session_url(rt.settings, note.session_id)
    return page_url(rt.settings, note.data.get("path", "/"))


async def send_email(rt: Runtime, notification_id: uuid.UUID) -> str:
    assert rt.mailer is not None
    found = await _unsent(rt, notification_id, "email")
    if found is None:
        return "nothing to send"
    note, person, address = found
    host = urlsplit(rt.settings.public_base_url).hostname  # no port: a msg-id has none
    await rt.mailer.send(email_message(
        to=address, title=note.title, body=note.body, language=person.language,
        link=link_for(rt, note), message_id=f"<{note.id}@{host}>",
        sent_at=rt.clock.now()))
    await _delivered(rt, note, emailed_at=rt.clock.now())
    return "emailed"


async def send_push(rt: Runtime, notification_id: uuid.UUID) -> str:
    assert rt.push is not None
    found = await _unsent(rt, notification_id, "push_token")
    if found is None:
        return "nothing to send"
    note, person, address = found
    try:
        await rt.push.send(address, note.title, note.body,
                           {"session_id": str(note.session_id or ""), "kind": note.kind})
    except UnregisteredToken:
        async with rt.sessions.begin() as db:  # the app was uninstalled: stop trying
            await db.execute(update(Profile).where(Profile.id == person.id)
                             .values(push_token=None))
        return "device token unregistered: forgotten"
    await _delivered(rt, note, pushed_at=rt.clock.now())
    return "pushed"


async def due_reminders(rt: Runtime) -> int:
    """Sessions starting within a reminder's lead time get that reminder, once — unless
    they were booked after the moment it would have gone out. Tutors hear of a request they
    have not answered once its approval window is about to close."""
    now = rt.clock.now()
    sent = 0
    async with rt.sessions.begin() as db:
        for label, lead in REMINDERS.items():
            sessions = (await db.scalars(select(TutoringSession).where(
                TutoringSession.status.in_(AWAITING_LESSON),
                TutoringSession.starts_at > now,
                TutoringSession.starts_at <= now + lead,
                TutoringSession.created_at <= TutoringSession.starts_at - lead,
            ))).all()
            for session in sessions:
                await notify_people(db, rt, session, "reminder", occasion=label)
                sent += 1
        for session in await holds.requests_near_lapse(db, now, holds.hold_rules(rt)):
            # Once per request and window (an approval window is set once, at booking).
            await notify_people(db, rt, session, "approval_reminder", to=[session.tutor_id])
            sent += 1
    return sent


async def for_user(db: AsyncSession, user: Profile, *, unread: bool, limit: int
                   ) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list((await db.scalars(query.order_by(Notification.created_at.desc())
                                  .limit(limit))).all())


async def mark_read(db: AsyncSession, rt: Runtime, user: Profile,
                    notification_id: uuid.UUID | None) -> int:
    """One notification, or all of them when no id is given."""
    query = update(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if notification_id is not None:
        if (await db.get(Notification, notification_id)) is None:
            raise NotFound("notification_not_found", "There is no such notification.")
        query = query.where(Notification.id == notification_id)
    result = await db.execute(query.values(read_at=rt.clock.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]
