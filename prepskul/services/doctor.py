"""`prepskul doctor`: every configured part checked for real, each failure with its fix.

Each check is a harmless call (Fapshi's balance, a Calendar event created and deleted, a
Fathom listing), so it can gate a deploy. In the sandbox it runs against the fakes."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from prepskul.db.migrate import current_revision, head_revision
from prepskul.domain.people import DEFAULT_TIME_ZONE
from prepskul.providers.errors import ProviderError
from prepskul.providers.google_calendar.models import event_body
from prepskul.runtime import Runtime
from prepskul.services.fathom_setup import our_webhook_url, registered

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: str  # ok | warn | fail
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.outcome == FAIL and self.required


def ok(name: str, detail: str) -> Check:
    return Check(name, OK, detail)


async def database(rt: Runtime) -> Check:
    name = "database"
    try:
        async with rt.engine.connect() as conn:
            version = await conn.scalar(text("SHOW server_version"))
        revision = await current_revision(rt.engine)
    except Exception as exc:
        return Check(name, FAIL, f"cannot connect: {exc}", "check DATABASE_URL and that the "
                     "server accepts connections from here")
    if revision != head_revision():
        return Check(name, FAIL, f"PostgreSQL {version}, schema at {revision}, code needs "
                     f"{head_revision()}", "run `prepskul migrate`")
    return ok(name, f"PostgreSQL {version}, schema at {revision}")


async def public_url(rt: Runtime) -> Check:
    """Reachable (we ask our own /healthz through it) and HTTPS; a warning otherwise."""
    url = rt.settings.public_base_url.rstrip("/")
    try:
        reachable = (await rt.http.get(f"{url}/healthz", timeout=5)).status_code == 200
    except httpx.HTTPError:
        reachable = False
    if not reachable:
        return Check("public URL", WARN, f"{url}/healthz does not answer from here",
                     "providers must reach PUBLIC_BASE_URL: check DNS, the load balancer and "
                     "that `serve` runs", required=False)
    if url.startswith("https://"):
        return ok("public URL", f"{url} answers over HTTPS")
    return Check("public URL", WARN, f"{url} answers, but not over HTTPS",
                 "providers post webhooks here and people open links: serve it over HTTPS "
                 "and set PUBLIC_BASE_URL", required=False)


async def fapshi(rt: Runtime) -> Check:
    name = "Fapshi"
    try:
        await rt.fapshi.balance()
    except ProviderError as exc:
        fix = ("check FAPSHI_API_USER and FAPSHI_API_KEY in the Fapshi dashboard"
               if exc.status in (401, 403) else "check FAPSHI_BASE_URL and Fapshi's status")
        return Check(name, FAIL, str(exc), fix)
    if not rt.fapshi.is_live and not rt.settings.is_sandbox:
        return Check(name, WARN, f"credentials accepted by {rt.fapshi.base_url}, but they are "
                     "test keys: no real money moves",
                     "put the live keys (FAK_…) from the Fapshi dashboard in FAPSHI_API_USER "
                     "and FAPSHI_API_KEY", required=False)
    where = "live" if rt.fapshi.is_live else "sandbox"
    return ok(name, f"credentials accepted by {rt.fapshi.base_url} ({where} keys)")


async def fapshi_webhook(rt: Runtime) -> Check:
    url = f"{rt.settings.public_base_url.rstrip('/')}/api/webhooks/fapshi"
    if rt.settings.fapshi_webhook_secret:
        return ok("Fapshi webhook", f"secret set; the dashboard must post to {url}")
    return Check("Fapshi webhook", FAIL, "FAPSHI_WEBHOOK_SECRET is not set",
                 f"in the Fapshi dashboard set the webhook URL to {url} and a secret, then "
                 "put the same secret in FAPSHI_WEBHOOK_SECRET",
                 required=not rt.settings.is_sandbox)


DELEGATION_HELP = {
    "forbiddenForServiceAccounts": (
        "the service account cannot invite attendees: in the Google Workspace admin console "
        "grant it domain-wide delegation for the scope "
        "https://www.googleapis.com/auth/calendar.events, and set GOOGLE_DELEGATED_USER to the "
        "organiser account it acts as"),
    "Invalid conference type value": (
        "Meet links cannot be created by a service account acting as itself: enable "
        "domain-wide delegation and set GOOGLE_DELEGATED_USER (or use an OAuth refresh token "
        "of a real account)"),
    "authError": "the Google credentials were refused: check the key file or refresh token",
}


async def google_calendar(rt: Runtime) -> Check:
    """Create a Meet-linked event with the VA invited on the configured calendar, wait for
    its link, then delete it."""
    name = "Google Calendar + Meet"
    now = rt.clock.now()
    body = event_body(
        event_id=f"psdoctor{secrets.token_hex(8)}", summary="PrepSkul setup check",
        description="Created and deleted by `prepskul doctor`.",
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, minutes=30),
        time_zone=DEFAULT_TIME_ZONE, attendees=[], va_email=rt.settings.va_email,
        request_id=secrets.token_hex(8))
    try:
        event = await rt.calendar.insert_event(body)
        try:
            event, conference = await rt.calendar.await_conference(
                event, base_delay=rt.settings.meet_poll_base_seconds, reads=6)
        finally:
            await rt.calendar.delete_event(event["id"])
    except ProviderError as exc:
        fix = next((help for key, help in DELEGATION_HELP.items() if key in str(exc)),
                   "check GOOGLE_CALENDAR_ID and the credentials' access to that calendar")
        return Check(name, FAIL, str(exc), fix)
    if conference.state != "success":
        return Check(name, FAIL, f"the event was made but its Meet conference is "
                     f"{conference.state}", "check that Google Meet is enabled for the "
                     "organiser's Workspace account")
    return ok(name, f"event with a Meet link and {rt.settings.va_email} invited, then deleted "
              f"({rt.calendar.credentials.description})")


async def fathom(rt: Runtime) -> Check:
    name = "Fathom"
    try:
        async for _ in rt.fathom.meetings():
            break
    except ProviderError as exc:
        return Check(name, FAIL, str(exc), "check FATHOM_API_KEY (Fathom → Settings → API)"
                     if exc.status == 401 else "check FATHOM_BASE_URL and Fathom's status")
    return ok(name, f"API key accepted by {rt.fathom.base_url}")


async def fathom_webhook(rt: Runtime) -> Check:
    name = "Fathom webhook"
    url = our_webhook_url(rt)
    if not rt.settings.fathom_webhook_secret and not rt.settings.is_sandbox:
        return Check(name, FAIL, "FATHOM_WEBHOOK_SECRET is not set",
                     "run `prepskul fathom webhook register` and set the secret it prints")
    try:
        hooks = [h for h in await registered(rt) if h.url == url]
    except DBAPIError:  # the database check above says why, and what to run
        return Check(name, WARN, "cannot read the webhooks registered from here",
                     "fix the database first", required=False)
    complete = [h for h in hooks if all(h.includes.values()) and h.includes]
    if complete:
        return ok(name, f"{complete[0].id} posts to {url} with transcript, summary and "
                  "action items")
    return Check(name, WARN, f"no webhook registered from here posts to {url}",
                 "run `prepskul fathom webhook register` (or check the one made in Fathom's "
                 "settings includes transcript, summary and action items)", required=False)


async def smtp(rt: Runtime) -> Check:
    name = "email (SMTP)"
    if rt.mailer is None:
        return Check(name, WARN, "SMTP_URL is not set: no emails are sent",
                     "set SMTP_URL=smtp://user:password@host:587", required=False)
    try:
        await rt.mailer.login_check()
    except Exception as exc:  # any refusal is the answer we report
        return Check(name, FAIL, f"{rt.mailer.host}:{rt.mailer.port}: {exc}",
                     "check SMTP_URL's host, port, user and password")
    return ok(name, f"connected and logged in to {rt.mailer.host}:{rt.mailer.port}")


async def push(rt: Runtime) -> Check:
    """Asks FCM (or the sandbox's fake) to validate a message; says nothing it did not ask."""
    name = "push (FCM)"
    if rt.push is None:
        return Check(name, WARN, "FCM_CREDENTIALS_FILE is not set: no push messages",
                     "download a Firebase service-account key and set FCM_CREDENTIALS_FILE",
                     required=False)
    where = f"{rt.push.credentials.description}, project {rt.push.project_id}"
    try:
        await rt.push.validate()
    except ProviderError as exc:
        return Check(name, FAIL, f"{where}: {exc}",
                     "check FCM_CREDENTIALS_FILE is the Firebase project's service-account key "
                     "with permission to send" if exc.status in (401, 403)
                     else "check FCM_BASE_URL and Firebase's status")
    return ok(name, f"{where}: a test message validated by {rt.push.base_url} (none sent)")


async def metrics_token(rt: Runtime) -> Check:
    """Production keeps /metrics closed without a token: say so before Prometheus does."""
    name = "metrics"
    if rt.settings.metrics_token:
        return ok(name, "/metrics answers only 'Authorization: Bearer $METRICS_TOKEN'")
    if rt.settings.is_sandbox:
        return ok(name, "/metrics is open (sandbox; production needs METRICS_TOKEN)")
    return Check(name, WARN, "METRICS_TOKEN is not set: /metrics answers 403",
                 "set METRICS_TOKEN and give it to Prometheus "
                 "(authorization: {credentials: …})", required=False)


CHECKS: tuple[Callable[[Runtime], Awaitable[Check]], ...] = (
    database, public_url, fapshi, fapshi_webhook, google_calendar, fathom, fathom_webhook,
    smtp, push, metrics_token,
)


async def run(rt: Runtime) -> list[Check]:
    return [await check(rt) for check in CHECKS]
