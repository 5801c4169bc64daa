"""Each person concerned hears of each change once per channel — in-app, email in their
language, push — through retries and duplicate webhooks; a dead channel blocks no other."""

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from prepskul.db.models import Notification, Profile
from prepskul.services.demo import demo_user


async def _kinds(rt: Any, who: str) -> list[str]:
    async with rt.sessions() as db:
        rows = await db.scalars(select(Notification.kind).where(
            Notification.user_id == demo_user(who).id).order_by(Notification.created_at))
        return list(rows)


def _subjects(mailbox: Any, to: str) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.messages if m["To"] == to]


async def test_payment_and_meet_link_reach_everyone_once_in_their_language(
    api, auth, book, pay, checkout, sandbox, worker, mailbox, rt
) -> None:  # type: ignore[no-untyped-def]
    await api.patch("/api/me", json={"push_token": "fake-device-sam"}, headers=auth("student"))
    session = await book("student")
    payment = await pay(session)
    sandbox.fapshi.duplicate_webhooks = 1  # Fapshi says it twice
    await checkout(payment)
    await worker.drain()
    await worker.drain()
    assert await _kinds(rt, "student") == ["booked", "paid", "meet_ready"]
    # Each message is its own job, so they may arrive in any order; each exactly once.
    assert sorted(_subjects(mailbox, "sam@students.prepskul.test")) == sorted([
        "Session booked", "Payment received", "Your Meet link is ready"])
    assert sorted(_subjects(mailbox, "ngono@tutors.prepskul.test")) == sorted([
        "Séance réservée", "Paiement reçu", "Votre lien Meet est prêt"])
    [ready] = [m for m in mailbox.messages if m["Subject"] == "Your Meet link is ready"]
    assert f"/sessions/{session['id']}" in ready.get_body(("plain",)).get_content()
    assert sorted(p["title"] for p in sandbox.fcm.sent) == sorted([
        "Session booked", "Payment received", "Your Meet link is ready"])
    assert {p["data"]["session_id"] for p in sandbox.fcm.sent} == {session["id"]}


async def test_a_failing_mail_server_does_not_stop_push_or_in_app(
    api, auth, book, worker, mailbox, sandbox, rt
) -> None:  # type: ignore[no-untyped-def]
    await api.patch("/api/me", json={"push_token": "fake-device-sam"}, headers=auth("student"))
    mailbox.refusing = True
    await book("student")
    await worker.drain()
    assert await _kinds(rt, "student") == ["booked"]
    assert [p["title"] for p in sandbox.fcm.sent] == ["Session booked"]
    assert mailbox.messages == []
    mailbox.refusing = False  # the server recovers; the queue's retry delivers, once
    rt.clock.advance(timedelta(minutes=5))
    await worker.drain()
    assert _subjects(mailbox, "sam@students.prepskul.test") == ["Session booked"]


async def test_an_uninstalled_app_loses_its_device_token(api, auth, book, worker, rt) -> None:  # type: ignore[no-untyped-def]
    await api.patch("/api/me", json={"push_token": "stale-token"}, headers=auth("student"))
    await book("student")
    await worker.drain()
    async with rt.sessions() as db:
        assert (await db.get(Profile, demo_user("student").id)).push_token is None  # type: ignore[union-attr]


async def test_reminders_fire_at_their_instants_in_each_persons_zone(
    api, auth, paid_session, worker, clock, mailbox, rt
) -> None:  # type: ignore[no-untyped-def]
    await api.patch("/api/me", json={"time_zone": "Europe/Paris"}, headers=auth("student"))
    session = await paid_session(hours_ahead=72)
    starts = datetime.fromisoformat(session["starts_at"])
    clock.set(starts - timedelta(hours=24, seconds=1))
    await worker.drain()
    assert "reminder" not in await _kinds(rt, "student")
    clock.set(starts - timedelta(hours=24))  # the instant
    await worker.drain()
    clock.advance(timedelta(minutes=3))  # later runs of the job change nothing
    await worker.drain()
    assert (await _kinds(rt, "student")).count("reminder") == 1
    clock.set(starts - timedelta(minutes=15))
    await worker.drain()
    assert (await _kinds(rt, "student")).count("reminder") == 2
    assert (await _kinds(rt, "tutor")).count("reminder") == 2
    reminders = [m for m in mailbox.messages if "soon" in str(m["Subject"])
                 or "bientôt" in str(m["Subject"])]
    paris = starts.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    douala = starts.astimezone(ZoneInfo("Africa/Douala")).strftime("%H:%M")
    bodies = {str(m["To"]): m.get_body(("plain",)).get_content() for m in reminders}
    assert paris in bodies["sam@students.prepskul.test"] and "Europe/Paris" in bodies[
        "sam@students.prepskul.test"]
    assert douala in bodies["ngono@tutors.prepskul.test"]


async def test_notifications_are_listed_and_marked_read(api, auth, book, worker) -> None:  # type: ignore[no-untyped-def]
    session = await book("student")
    await api.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=auth("student"))
    await worker.drain()
    listed = (await api.get("/api/notifications", headers=auth("student"))).json()
    assert sorted(n["kind"] for n in listed) == ["booked", "cancelled"]
    [cancelled] = [n for n in listed if n["kind"] == "cancelled"]
    one = await api.post(f"/api/notifications/{cancelled['id']}/read", headers=auth("student"))
    assert one.json() == {"marked": 1}
    unread = (await api.get("/api/notifications?unread=true", headers=auth("student"))).json()
    assert [n["kind"] for n in unread] == ["booked"]
    assert (await api.post("/api/notifications/read-all", headers=auth("student"))).json() == {
        "marked": 1}
    await api.post("/api/notifications/read-all", headers=auth("tutor"))
    tutors = (await api.get("/api/notifications?unread=true", headers=auth("tutor"))).json()
    assert tutors == []
    other = await api.post(f"/api/notifications/{cancelled['id']}/read", headers=auth("tutor"))
    assert other.json() == {"marked": 0}  # someone else's: nothing changes


async def test_an_email_is_complete_as_mail_servers_want_it_in_french(
    book, worker, mailbox, rt
) -> None:  # type: ignore[no-untyped-def]
    """RFC 5322's required Date and a well-formed Message-ID, text and HTML alternatives in
    UTF-8, and the marks that stop vacation replies (RFC 3834)."""
    await book("student")
    await worker.drain()
    [message] = [m for m in mailbox.messages if m["To"] == "ngono@tutors.prepskul.test"]
    assert parsedate_to_datetime(str(message["Date"])).tzinfo is not None
    assert re.fullmatch(r"<[0-9a-f-]+@127\.0\.0\.1>", str(message["Message-ID"]))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == rt.settings.email_from
    assert message["Content-Language"] == "fr"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "Ouvrir la séance" in plain.get_content()
    assert 'lang="fr"' in html.get_content() and "Ouvrir la séance" in html.get_content()
    assert str(message["Subject"]) == "Séance réservée"
    [raw] = [r for r in mailbox.raw if b"ngono@tutors.prepskul.test" in r]
    assert raw.isascii()  # 7-bit on the wire: any server relays it, SMTPUTF8 or not
    assert b"Subject: =?utf-8?" in raw
    assert max(len(line) for line in raw.splitlines()) <= 998  # RFC 5322's hard limit
