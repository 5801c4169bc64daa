"""Google Calendar events with Meet links: one per session, pending → ready or failed,
reschedule keeps the link, cancel is idempotent, errors retried or dead-lettered clearly."""

import re
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from prepskul.db.models import Job, Notification
from prepskul.providers.errors import PermanentProviderError
from prepskul.providers.fcm.client import PushClient
from prepskul.providers.google_auth import GoogleAuthToken, StaticToken
from prepskul.providers.google_calendar.client import CalendarClient
from prepskul.providers.google_calendar.credentials import credentials_from_settings
from prepskul.services import meetings
from tests.conftest import web_client

MEET = re.compile(r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}$")


async def _get(api: Any, auth: Any, session: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get(f"/api/sessions/{session['id']}",
                                          headers=auth("student"))).json()
    return body


async def test_a_paid_session_gets_one_event_with_a_meet_link_and_the_va(
    api, auth, paid_session, sandbox, rt
) -> None:  # type: ignore[no-untyped-def]
    sandbox.calendar.pending_reads = 2  # Google answers 'pending' first, as it often does
    session = await paid_session("student", kind="regular", minutes=60)
    seen = await _get(api, auth, session)
    assert seen["status"] == "scheduled"
    assert seen["meet_state"] == "ready" and MEET.match(seen["meet_link"])
    [event] = sandbox.calendar.events.values()
    assert event["hangoutLink"] == seen["meet_link"]
    emails = [a["email"] for a in event["attendees"]]
    assert emails.count(rt.settings.va_email) == 1
    assert "ngono@tutors.prepskul.test" in emails and "sam@students.prepskul.test" in emails
    assert event["summary"] == "Session: Mathematics"
    assert f"/sessions/{session['id']}" in event["description"]


async def test_running_the_job_again_or_after_a_crash_makes_no_second_event(
    paid_session, sandbox, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    for _ in range(3):  # a redone job (e.g. after its worker died) finds the same event
        await meetings.create_meeting(rt, uuid.UUID(session["id"]))
    assert sandbox.calendar.inserts == 1
    assert len(sandbox.calendar.events) == 1


async def test_a_conference_that_fails_is_marked_failed_and_nobody_gets_a_link(
    api, auth, paid_session, sandbox, rt
) -> None:  # type: ignore[no-untyped-def]
    sandbox.calendar.conference_failure = True
    session = await paid_session()
    seen = await _get(api, auth, session)
    assert (seen["status"], seen["meet_state"], seen["meet_link"]) == ("paid", "failed", None)
    async with rt.sessions() as db:
        kinds = set((await db.scalars(select(Notification.kind))).all())
    assert "meet_ready" not in kinds and "paid" in kinds
    metrics = (await api.get("/metrics")).text
    assert 'prepskul_attention{what="meet_link_failed"} 1.0' in metrics


async def test_rate_limits_and_server_errors_are_retried_until_it_works(
    api, auth, paid_session, sandbox, clock, worker
) -> None:  # type: ignore[no-untyped-def]
    sandbox.calendar.controls.fail_next(503)
    sandbox.calendar.controls.fail_next(429, headers={"Retry-After": "0"})
    sandbox.calendar.controls.fail_next(403)  # reason rateLimitExceeded: retryable too
    session = await paid_session()  # three quick tries spent: the queue backs off
    assert (await _get(api, auth, session))["meet_state"] == "pending"
    clock.advance(timedelta(minutes=1))
    await worker.drain()
    seen = await _get(api, auth, session)
    assert seen["meet_state"] == "ready"
    assert len(sandbox.calendar.events) == 1


async def test_a_service_account_without_delegation_dead_letters_with_googles_reason(
    api, auth, paid_session, sandbox, rt
) -> None:  # type: ignore[no-untyped-def]
    sandbox.calendar.no_delegation = True
    session = await paid_session()
    assert (await _get(api, auth, session))["meet_state"] == "failed"
    async with rt.sessions() as db:
        job = (await db.scalars(select(Job).where(Job.kind == "create_meeting"))).one()
    assert job.status == "dead"
    assert "forbiddenForServiceAccounts" in (job.last_error or "")
    assert "Domain-Wide Delegation" in (job.last_error or "")


async def test_rescheduling_moves_the_event_and_keeps_the_link(
    api, auth, paid_session, sandbox, worker, clock
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    link = (await _get(api, auth, session))["meet_link"]
    new_start = (clock.now() + timedelta(days=4)).replace(microsecond=0, second=0)
    proposal = (await api.post(f"/api/sessions/{session['id']}/proposals",
                               json={"starts_at": new_start.isoformat()},
                               headers=auth("student"))).json()
    moved = await api.post(f"/api/sessions/{session['id']}/proposals/{proposal['id']}/accept",
                           headers=auth("tutor"))
    assert moved.status_code == 200
    await worker.drain()
    [event] = sandbox.calendar.events.values()
    assert event["sequence"] == 1
    local = new_start.astimezone(ZoneInfo("Africa/Douala"))
    assert event["start"]["dateTime"] == local.replace(tzinfo=None).isoformat(timespec="seconds")
    assert (await _get(api, auth, session))["meet_link"] == link


async def test_cancelling_cancels_the_event_and_doing_it_again_is_harmless(
    api, auth, paid_session, sandbox, worker, rt
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    await api.post(f"/api/sessions/{session['id']}/cancel", json={"reason": "ill"},
                   headers=auth("student"))
    await worker.drain()
    [event] = sandbox.calendar.events.values()
    assert event["status"] == "cancelled"
    assert await meetings.cancel_meeting(rt, uuid.UUID(session["id"])) == "cancelled"  # 410 ok
    async with rt.sessions() as db:
        dead = (await db.scalars(select(Job).where(Job.status == "dead"))).all()
    assert dead == []


async def test_once_its_event_is_deleted_a_cancelled_session_shows_no_meet_link(
    api, auth, paid_session, worker, settings
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    link = (await _get(api, auth, session))["meet_link"]
    assert link
    await api.post(f"/api/sessions/{session['id']}/cancel", json={}, headers=auth("student"))
    await worker.drain()
    seen = await _get(api, auth, session)
    assert (seen["status"], seen["meet_state"], seen["meet_link"]) == (
        "cancelled", "cancelled", None)
    assert seen["recording_state"] is None  # Fathom will not come to a deleted event
    async with web_client(settings, "student") as browser:
        page = await browser.get(f"/sessions/{session['id']}")
    assert page.status_code == 200 and link not in page.text


async def test_the_fake_calendar_refuses_a_wrong_token_like_google(rt, sandbox) -> None:  # type: ignore[no-untyped-def]
    client = CalendarClient(rt.http, base_url=rt.calendar.base_url, calendar_id="primary",
                            credentials=StaticToken("stolen", "a token the fake refuses"))
    with pytest.raises(PermanentProviderError) as refused:
        await client.get_event("ps0123456789")
    assert refused.value.status == 401
    assert "authError" in str(refused.value)


def _oauth_client(rt: Any, settings: Any, refresh_token: str) -> CalendarClient:
    """A client configured with an OAuth refresh token, against the fake's token endpoint."""
    google = rt.calendar.base_url.removesuffix("/calendar/v3")
    oauth = credentials_from_settings(settings.model_copy(update={
        "google_oauth_client_id": "client", "google_oauth_client_secret": "secret",
        "google_oauth_refresh_token": refresh_token, "google_token_uri": f"{google}/token"}))
    assert oauth.description == "OAuth refresh token"
    return CalendarClient(rt.http, base_url=rt.calendar.base_url, calendar_id="primary",
                          credentials=oauth)


async def test_an_oauth_refresh_token_is_exchanged_and_refreshed_after_a_401(
    rt, sandbox, settings
) -> None:  # type: ignore[no-untyped-def]
    client = _oauth_client(rt, settings, sandbox.calendar.refresh_token)
    body = {"id": "ps0123456789abcdef", "start": {"dateTime": "2030-01-01T10:00:00"},
            "end": {"dateTime": "2030-01-01T11:00:00"}}
    await client.insert_event(body)
    assert len(sandbox.calendar.issued) == 1
    sandbox.calendar.revoke_tokens()  # the access token expires; the next call gets a 401
    await client.get_event("ps0123456789abcdef")
    assert len(sandbox.calendar.issued) == 1  # refreshed once, then it worked


async def test_a_revoked_refresh_token_is_a_permanent_configuration_error(
    rt, sandbox, settings
) -> None:  # type: ignore[no-untyped-def]
    client = _oauth_client(rt, settings, "revoked")
    with pytest.raises(PermanentProviderError) as refused:
        await client.get_event("ps0123456789abcdef")
    assert "invalid_grant" in str(refused.value)
    assert refused.value.provider == "google_calendar"


async def test_a_refused_push_credential_is_reported_as_fcm_not_as_the_calendar(
    rt: Any, sandbox: Any
) -> None:
    """FCM and Calendar share google-auth tokens, not a name: the operator must see which
    credential was refused."""
    from google.oauth2.credentials import Credentials

    google = rt.calendar.base_url.removesuffix("/calendar/v3")
    creds = Credentials(None, refresh_token="revoked", token_uri=f"{google}/token",
                        client_id="client", client_secret="secret")
    push = PushClient(rt.http, base_url=rt.push.base_url, project_id="prepskul-sandbox",
                      credentials=GoogleAuthToken(creds, "a revoked key", provider="fcm"))
    with pytest.raises(PermanentProviderError) as refused:
        await push.send("device", "title", "body", {})
    assert refused.value.provider == "fcm"


async def test_the_readmes_script_drives_the_fake_calendar_over_http(
    api, paid_session, sandbox
) -> None:  # type: ignore[no-untyped-def]
    session = await paid_session()
    google = {"Authorization": "Bearer sandbox-google-token"}
    listed = (await api.get("/sandbox/google/calendar/v3/calendars/primary/events",
                            headers=google)).json()
    [event] = listed["items"]
    assert event["hangoutLink"].startswith("https://meet.google.com/")
    assert session["subject"] in event["summary"]
    steer = await api.post("/sandbox/google/_control",
                           json={"fail": [{"status": 503}, {"status": 429}], "latency": 0})
    assert steer.json()["queued_failures"] == 2
    codes = [(await api.get("/sandbox/google/calendar/v3/calendars/primary/events",
                            headers=google)).status_code for _ in range(3)]
    assert codes == [503, 429, 200]
