"""Fake Fathom: the external API (meetings with cursor pagination, a recording's summary and
transcript, webhooks) behind `X-Api-Key`, with Fathom's 60-calls-per-minute limit, and a
"record this meeting" action that builds a realistic `new_meeting_content_ready` payload and
POSTs it signed (Standard Webhooks) to every registered destination, resending on failure on
Svix's schedule (compressed by `resend_scale` in tests).

It knows nothing of our database: whoever asks it to record says who was invited, when, and
on which Meet link — as the real Fathom learns it from the VA's calendar."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from prepskul.providers.fathom.signatures import sign
from prepskul.sandbox.harness import FakeControls, Outgoing, fake_app

SVIX_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)  # seconds, as Svix resends
RATE_LIMIT = 60
INCLUDES = ("include_transcript", "include_summary", "include_action_items",
            "include_crm_matches")


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Destination:
    id: str
    url: str
    secret: str
    includes: dict[str, bool]


@dataclass
class FakeFathom:
    controls: FakeControls
    api_key: str
    default_destination: Destination | None = None
    resend_scale: float = 1.0
    page_size: int = 10
    meetings: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, Destination] = field(default_factory=dict)
    # (url, webhook-id, HTTP status or 0 for no answer), one per attempt
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)
    _calls: list[float] = field(default_factory=list)
    outgoing: Outgoing = field(default_factory=Outgoing)
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=15))

    def reset(self) -> None:
        self.meetings.clear()
        self.webhooks.clear()
        self.deliveries.clear()
        self._calls.clear()
        self.controls.reset()
        if self.default_destination:
            self.default_destination.includes = dict.fromkeys(INCLUDES, True)
            self.default_destination.includes["include_crm_matches"] = False

    # --- recording ------------------------------------------------------------------
    def record(
        self, *, title: str, meeting_url: str | None, starts_at: datetime, ends_at: datetime,
        tutor: tuple[str, str], student: tuple[str, str], va: tuple[str, str],
        present: list[str] | None = None, lines: list[str] | None = None,
    ) -> dict[str, Any]:
        """Make the notes of a lesson that happened and deliver them. Each person is
        (name, email); `present` are the emails of those who spoke (default: tutor and
        student), taking turns on `lines` (default: a short fractions lesson). The
        homework goes to the student."""
        rid = secrets.randbelow(900_000_000) + 100_000_000
        invitees = [tutor, student, va]
        names = {email.lower(): name for name, email in invitees}
        talking = [e.lower() for e in (present if present is not None
                                       else [tutor[1], student[1]])]
        lines = lines or ["Bonjour, let's start with fractions.", "I found exercise 3 hard.",
                          "Let's look at common denominators.", "That makes sense now."]
        turns = talking * (len(lines) // max(1, len(talking)) + 1)
        transcript = [
            {"speaker": {"display_name": names.get(email, email),
                         "matched_calendar_invitee_email": email},
             "text": line, "timestamp": f"00:{5 + 3 * i:02d}:{(17 * i) % 60:02d}"}
            for i, (email, line) in enumerate(zip(turns, lines, strict=False))
        ]
        meeting = {
            "title": title, "meeting_title": title, "recording_id": rid,
            "url": f"https://fathom.video/calls/{rid}",
            "share_url": f"https://fathom.video/share/{secrets.token_urlsafe(12)}",
            "meeting_url": meeting_url, "meeting_type": "external",
            "created_at": _iso(ends_at + timedelta(minutes=2)),
            "scheduled_start_time": _iso(starts_at), "scheduled_end_time": _iso(ends_at),
            "recording_start_time": _iso(starts_at + timedelta(minutes=1)),
            "recording_end_time": _iso(ends_at),
            "calendar_invitees_domains_type": "one_or_more_external",
            "transcript_language": "en", "highlights": None, "shared_with": [],
            "calendar_invitees": [
                {"name": n, "matched_speaker_display_name": n if e.lower() in talking else None,
                 "email": e, "is_external": True, "email_domain": e.split("@")[-1]}
                for n, e in invitees
            ],
            "recorded_by": {"name": va[0], "email": va[1], "team": None,
                            "email_domain": va[1].split("@")[-1]},
            "transcript": transcript,
            "default_summary": {"template_name": "general", "markdown_formatted":
                                f"## Summary\nWe worked on {title}.\n\n## Next steps\n"
                                "- Finish exercise 4"},
            "action_items": [{
                "description": "Finish exercise 4 before the next session",
                "user_generated": False, "completed": False, "recording_timestamp": "00:10:45",
                "recording_playback_url": f"https://fathom.video/calls/{rid}#t=645",
                "assignee": {"name": student[0], "email": student[1], "team": None},
            }],
            "crm_matches": None,
        }
        self.meetings[rid] = meeting
        for destination in self._destinations():
            self.outgoing.send(self._deliver(destination, meeting))
        return meeting

    def _destinations(self) -> list[Destination]:
        found = list(self.webhooks.values())
        return found or ([self.default_destination] if self.default_destination else [])

    def payload_for(self, destination: Destination, meeting: dict[str, Any]) -> dict[str, Any]:
        """Only what the webhook's include_* settings ask for is sent (the rest is absent)."""
        body = {k: v for k, v in meeting.items()
                if k not in ("transcript", "default_summary", "action_items", "crm_matches")}
        for flag, key in (("include_transcript", "transcript"),
                          ("include_summary", "default_summary"),
                          ("include_action_items", "action_items"),
                          ("include_crm_matches", "crm_matches")):
            if destination.includes.get(flag):
                body[key] = meeting[key]
        return body

    async def _deliver(self, destination: Destination, meeting: dict[str, Any]) -> None:
        raw = json.dumps(self.payload_for(destination, meeting)).encode()
        msg_id = f"msg_{secrets.token_hex(12)}"  # the same id on every resend
        for delay in SVIX_SCHEDULE:
            await asyncio.sleep(delay * self.resend_scale)
            ts = int(time.time())
            headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts),
                       "webhook-signature": sign(destination.secret, msg_id, ts, raw),
                       "content-type": "application/json"}
            status = 0
            with contextlib.suppress(httpx.HTTPError):
                status = (await self.http.post(destination.url, content=raw,
                                               headers=headers)).status_code
            self.deliveries.append((destination.url, msg_id, status))
            if 200 <= status < 300:
                return

    async def flush(self) -> None:
        await self.outgoing.flush()

    # --- HTTP -----------------------------------------------------------------------
    def app(self) -> FastAPI:
        app = fake_app("fathom", self.controls, lambda s: {"message": f"HTTP {s}"})

        @app.exception_handler(_Refused)
        async def refused(_: Request, exc: _Refused) -> JSONResponse:
            return JSONResponse({"message": exc.message}, status_code=exc.status,
                                headers=exc.headers)

        guard = [Depends(self._guard)]
        v1 = "/external/v1"
        app.add_api_route(f"{v1}/meetings", self._meetings, methods=["GET"], dependencies=guard)
        app.add_api_route(f"{v1}/recordings/{{rid}}/summary", self._summary, methods=["GET"],
                          dependencies=guard)
        app.add_api_route(f"{v1}/recordings/{{rid}}/transcript", self._transcript,
                          methods=["GET"], dependencies=guard)
        app.add_api_route(f"{v1}/webhooks", self._create_webhook, methods=["POST"],
                          dependencies=guard)
        app.add_api_route(f"{v1}/webhooks/{{wid}}", self._delete_webhook, methods=["DELETE"],
                          dependencies=guard)
        return app

    async def _guard(self, request: Request) -> None:
        key = request.headers.get("x-api-key", "")
        if not secrets.compare_digest(key.encode(), self.api_key.encode()):
            raise _Refused(401, "Invalid API key")
        now = time.monotonic()
        self._calls = [t for t in self._calls if now - t < 60]
        if len(self._calls) >= RATE_LIMIT:
            reset = int(60 - (now - self._calls[0])) + 1
            raise _Refused(429, "Rate limit exceeded", {
                "RateLimit-Limit": str(RATE_LIMIT), "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset)})
        self._calls.append(now)

    async def _meetings(self, request: Request) -> Response:
        q = request.query_params
        items = sorted(self.meetings.values(), key=lambda m: m["created_at"], reverse=True)
        if after := q.get("created_after"):
            items = [m for m in items if m["created_at"] > after]
        try:
            start = int(q.get("cursor") or 0)
        except ValueError:
            raise _Refused(400, "Invalid cursor") from None
        page = items[start:start + self.page_size]
        more = start + self.page_size < len(items)
        include = {k: q.get(k) == "true" for k in ("include_transcript", "include_summary",
                                                   "include_action_items")}
        shaped = [self.payload_for(Destination("", "", "", include), m) for m in page]
        return JSONResponse({"limit": self.page_size, "items": shaped,
                             "next_cursor": str(start + self.page_size) if more else None})

    def _meeting(self, rid: int) -> dict[str, Any]:
        if rid not in self.meetings:
            raise _Refused(404, "Recording not found")
        return self.meetings[rid]

    async def _summary(self, rid: int) -> Response:
        return JSONResponse({"summary": self._meeting(rid)["default_summary"]})

    async def _transcript(self, rid: int) -> Response:
        return JSONResponse({"transcript": self._meeting(rid)["transcript"]})

    async def _create_webhook(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "Body must be JSON") from None
        url, triggered = body.get("destination_url"), body.get("triggered_for")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _Refused(400, "destination_url is required")
        if not isinstance(triggered, list) or not triggered:
            raise _Refused(400, "triggered_for is required")
        includes = {k: bool(body.get(k)) for k in INCLUDES}
        if not any(includes.values()):
            raise _Refused(400, "At least one include_* option must be true")
        wid = secrets.token_hex(8)
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.webhooks[wid] = Destination(wid, url, secret, includes)
        return JSONResponse({"id": wid, "url": url, "secret": secret,
                             "created_at": _iso(self.controls.clock.now()),
                             "triggered_for": triggered, **includes}, status_code=201)

    async def _delete_webhook(self, wid: str) -> Response:
        if self.webhooks.pop(wid, None) is None:
            raise _Refused(404, "Webhook not found")
        return Response(status_code=204)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
