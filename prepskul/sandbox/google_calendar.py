"""Fake Google Calendar v3: events insert/get/patch/delete/list on the real paths, with the
real id rules, error envelope and conference behaviour.

- `conferenceDataVersion=1` is honoured: without it conference data is silently dropped.
- A Meet conference stays `pending` for `pending_reads` reads of the event, then becomes
  `success` with a `meet.google.com/xxx-yyyy-zzz` link — or `failure` in failure mode.
- `no_delegation` answers like a service account without domain-wide delegation.
- Every call must carry `Authorization: Bearer <token>`: the sandbox token, or one this fake
  issued at `POST /token` (401 otherwise) — for the OAuth refresh token it was given, or for
  a service account's signed assertion (the JWT-bearer grant, verified with the public key
  of a key it was given in `service_accounts`), so google-auth's refresh runs for real.
  `revoke_tokens()` makes issued tokens expire."""

from __future__ import annotations

import copy
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from prepskul.sandbox.harness import FakeControls, fake_app

EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
# google-auth addresses every assertion to Google's token endpoint, whatever the key's
# token_uri; Google accepts that audience (and its own URL).
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


def _invalid_grant(description: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_grant", "error_description": description},
                        status_code=400)


def google_error(status: int, reason: str, message: str, domain: str = "global") -> JSONResponse:
    body = {"error": {"errors": [{"domain": domain, "reason": reason, "message": message}],
                      "code": status, "message": message}}
    return JSONResponse(body, status_code=status)


def _default_error(status: int) -> dict[str, Any]:
    reason = {429: "rateLimitExceeded", 403: "rateLimitExceeded", 500: "backendError",
              503: "backendError"}.get(status, "backendError")
    domain = "usageLimits" if status in (403, 429) else "global"
    message = "Rate Limit Exceeded" if status in (403, 429) else "Backend Error"
    return {"error": {"errors": [{"domain": domain, "reason": reason, "message": message}],
                      "code": status, "message": message}}


def _meet_code() -> str:
    def part(n: int) -> str:
        return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))

    return f"{part(3)}-{part(4)}-{part(3)}"


class _Unauthorised(Exception):
    pass


@dataclass
class FakeCalendar:
    controls: FakeControls
    token: str
    pending_reads: int = 1
    conference_failure: bool = False
    no_delegation: bool = False
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    _reads_left: dict[str, int] = field(default_factory=dict)
    inserts: int = 0
    refresh_token: str = "sandbox-refresh-token"
    issued: set[str] = field(default_factory=set)
    # service-account email → its public key (PEM); `delegated` records whom each acted as
    service_accounts: dict[str, str] = field(default_factory=dict)
    delegated: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.events.clear()
        self._reads_left.clear()
        self.pending_reads, self.conference_failure, self.no_delegation = 1, False, False
        self.inserts = 0
        self.issued.clear()
        self.delegated.clear()
        self.controls.reset()

    def revoke_tokens(self) -> None:
        """Every access token issued so far expires (the next call answers 401)."""
        self.issued.clear()

    def app(self) -> FastAPI:
        app = fake_app("google_calendar", self.controls, _default_error)

        @app.exception_handler(_Unauthorised)
        async def unauthorised(_: Request, __: _Unauthorised) -> JSONResponse:
            return google_error(401, "authError", "Invalid Credentials")

        app.add_api_route("/token", self._token, methods=["POST"])
        base = "/calendar/v3/calendars/{calendar_id}/events"
        routes = (
            (base, self._insert, "POST"), (base, self._list, "GET"),
            (base + "/{event_id}", self._get, "GET"), (base + "/{event_id}", self._patch, "PATCH"),
            (base + "/{event_id}", self._delete, "DELETE"),
        )
        for path, endpoint, method in routes:
            app.add_api_route(path, endpoint, methods=[method],
                              dependencies=[Depends(self._require_token)])
        return app

    async def _require_token(self, request: Request) -> None:
        """Every Calendar call must carry the expected bearer token, as Google's would."""
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not (secrets.compare_digest(given.encode(), self.token.encode())
                or given in self.issued):
            raise _Unauthorised

    async def _token(self, request: Request) -> Response:
        """Google's OAuth token endpoint: the refresh-token grant and the service accounts'
        JWT-bearer grant."""
        form = await request.form()
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") != self.refresh_token:
                return _invalid_grant("Token has been expired or revoked.")
        elif grant == JWT_BEARER:
            refusal = self._check_assertion(str(form.get("assertion", "")), str(request.url))
            if refusal:
                return _invalid_grant(refusal)
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = "ya29.sandbox-" + secrets.token_urlsafe(16)
        self.issued.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3599,
                             "scope": "https://www.googleapis.com/auth/calendar.events",
                             "token_type": "Bearer"})

    def _check_assertion(self, assertion: str, audience: str) -> str | None:
        """Why a service account's assertion is refused, or None: signed by a key we know,
        for this endpoint, asking for Calendar."""
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
            claims = jwt.decode(assertion, self.service_accounts.get(str(issuer), ""),
                                algorithms=["RS256"], audience=[GOOGLE_TOKEN_AUDIENCE, audience])
        except jwt.PyJWTError as exc:
            return f"Invalid JWT Signature. ({type(exc).__name__})"
        if CALENDAR_SCOPE not in str(claims.get("scope", "")).split():
            return "Invalid OAuth scope or ID token audience provided."
        self.delegated.append(str(claims.get("sub") or issuer))
        return None

    async def _insert(self, calendar_id: str, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return google_error(400, "parseError", "Parse Error")
        if not isinstance(body, dict):
            return google_error(400, "parseError", "Parse Error")
        event_id = body.get("id") or secrets.token_hex(16)
        if not EVENT_ID.match(str(event_id)):
            return google_error(400, "invalid", "Invalid resource id value.")
        if event_id in self.events:
            return google_error(409, "duplicate", "The requested identifier already exists.")
        if self.no_delegation and body.get("attendees"):
            return google_error(403, "forbiddenForServiceAccounts",
                                "Service accounts cannot invite attendees without Domain-Wide "
                                "Delegation of Authority.")
        if "start" not in body or "end" not in body:
            return google_error(400, "required", "Missing end time.")
        if body["end"].get("dateTime", "") <= body["start"].get("dateTime", ""):
            return google_error(400, "timeRangeEmpty", "The specified time range is empty.")
        with_conference = request.query_params.get("conferenceDataVersion") == "1"
        create = (body.get("conferenceData") or {}).get("createRequest")
        if self.no_delegation and with_conference and create:
            return google_error(400, "invalid", "Invalid conference type value.")
        now = self.controls.clock.now().isoformat()
        event = {
            "kind": "calendar#event", "id": event_id, "etag": f'"{secrets.token_hex(8)}"',
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": now, "updated": now, "summary": body.get("summary"),
            "description": body.get("description"), "start": body["start"], "end": body["end"],
            "attendees": [
                {**a, "responseStatus": "needsAction"} for a in body.get("attendees", [])
            ],
            "reminders": body.get("reminders"), "iCalUID": f"{event_id}@google.com",
            "sequence": 0, "organizer": {"email": calendar_id, "self": True},
        }
        if with_conference and create:
            event["conferenceData"] = {
                "createRequest": {**create, "status": {"statusCode": "pending"}},
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
            }
            self._reads_left[event_id] = self.pending_reads
            self._advance(event)  # may already be ready when pending_reads is 0
        self.events[event_id] = event
        self.inserts += 1
        return JSONResponse(event)

    def _advance(self, event: dict[str, Any]) -> None:
        data = event.get("conferenceData")
        if not data or data["createRequest"]["status"]["statusCode"] != "pending":
            return
        left = self._reads_left.get(event["id"], 0)
        if left > 0:
            self._reads_left[event["id"]] = left - 1
            return
        if self.conference_failure:
            data["createRequest"]["status"]["statusCode"] = "failure"
            return
        code = _meet_code()
        data["createRequest"]["status"]["statusCode"] = "success"
        data["conferenceId"] = code
        data["entryPoints"] = [{"entryPointType": "video", "uri": f"https://meet.google.com/{code}",
                                "label": f"meet.google.com/{code}"}]
        event["hangoutLink"] = f"https://meet.google.com/{code}"

    async def _get(self, calendar_id: str, event_id: str, request: Request) -> Response:
        event = self.events.get(event_id)
        if event is None:
            return google_error(404, "notFound", "Not Found")
        self._advance(event)
        return JSONResponse(copy.deepcopy(event))

    async def _list(self, calendar_id: str, request: Request) -> Response:
        items = [e for e in self.events.values() if e["status"] != "cancelled"]
        return JSONResponse({"kind": "calendar#events", "items": items})

    async def _patch(self, calendar_id: str, event_id: str, request: Request) -> Response:
        event = self.events.get(event_id)
        if event is None or event["status"] == "cancelled":
            return google_error(404 if event is None else 410, "notFound" if event is None
                                else "deleted", "Resource has been deleted")
        body = await request.json()
        if "conferenceData" in body and request.query_params.get("conferenceDataVersion") != "1":
            body.pop("conferenceData")  # dropped silently, as Google does
        for key in ("start", "end", "summary", "description", "attendees"):
            if key in body:
                event[key] = body[key]
        event["sequence"] += 1
        event["updated"] = self.controls.clock.now().isoformat()
        return JSONResponse(copy.deepcopy(event))

    async def _delete(self, calendar_id: str, event_id: str, request: Request) -> Response:
        event = self.events.get(event_id)
        if event is None:
            return google_error(404, "notFound", "Not Found")
        if event["status"] == "cancelled":
            return google_error(410, "deleted", "Resource has been deleted")
        event["status"] = "cancelled"
        return Response(status_code=204)
