"""Fake Fapshi: the endpoints, shapes, validations and error bodies of the real API, a
hosted checkout page where a person (or a test) pays, fails or abandons, and one webhook
per status change — which, like Fapshi's, is sent once and never retried.

Direct-pay outcomes follow the phone number: ending in 1 fails, ending in 2 never answers
(stays PENDING), anything else succeeds — when `settle()` runs.

Payouts (`POST /payout`) draw on the service's balance (refused with 400 when it is short),
start PENDING and settle by the phone number when next asked about (or on `settle()`):
ending in 3 fails (an account that cannot receive), anything else succeeds; a failed
payout's amount goes back to the balance. `hold_payouts` keeps them PENDING, and
`lose_payout_answers` makes the next payouts happen while their answer is lost (a 504), as
a gateway timeout would; `payout_answer_delay` answers late (the payout already made)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from prepskul.sandbox.harness import FakeControls, Outgoing, fake_app

ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,100}$")
PHONE_RE = re.compile(r"^6\d{8}$")
EXPIRY = timedelta(hours=24)
ALPHABET = string.ascii_letters + string.digits


DEFAULT_MESSAGES = {400: "Bad request", 403: "Invalid credentials", 404: "Not found",
                    429: "Too many requests"}


def _default_body(status: int) -> dict[str, str]:
    return {"message": DEFAULT_MESSAGES.get(status, "Internal server error")}


def _error(status: int, message: str | None = None) -> JSONResponse:
    return JSONResponse({"message": message or _default_body(status)["message"]},
                        status_code=status)


@dataclass
class FakeFapshi:
    controls: FakeControls
    api_user: str
    api_key: str
    public_url: str  # where this fake is reachable (for checkout links)
    webhook_url: str
    webhook_secret: str | None = None
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    drop_webhooks: int = 0
    duplicate_webhooks: int = 0
    hold_webhooks: bool = False
    payout_balance: int = 1_000_000
    hold_payouts: bool = False
    lose_payout_answers: int = 0
    payout_answer_delay: float = 0.0  # seconds between making a payout and answering
    held: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    outgoing: Outgoing = field(default_factory=Outgoing)
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))

    def reset(self) -> None:
        self.transactions.clear()
        self.held.clear()
        self.sent.clear()
        self.drop_webhooks = self.duplicate_webhooks = 0
        self.hold_webhooks = False
        self.payout_balance, self.hold_payouts, self.lose_payout_answers = 1_000_000, False, 0
        self.payout_answer_delay = 0.0
        self.controls.reset()

    # --- state changes --------------------------------------------------------------
    def _new(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        trans_id = "".join(secrets.choice(ALPHABET) for _ in range(secrets.choice((8, 9, 10))))
        now = self.controls.clock.now()
        tx = {
            "transId": trans_id, "status": "CREATED", "medium": body.get("medium"),
            "serviceName": "PrepSkul Sandbox", "transType": "Collection",
            "amount": body["amount"], "revenue": int(body["amount"] * 0.97),
            "payerName": body.get("name"), "email": body.get("email"),
            "redirectUrl": body.get("redirectUrl"), "externalId": body.get("externalId"),
            "userId": body.get("userId"), "webhook": self.webhook_url, "reason": None,
            "financialTransId": None, "dateInitiated": now.isoformat(), "dateConfirmed": None,
            "_kind": kind, "_phone": body.get("phone"),
        }
        self.transactions[trans_id] = tx
        return tx

    def set_status(self, trans_id: str, status: str) -> dict[str, Any]:
        tx = self.transactions[trans_id]
        if tx["status"] in ("SUCCESSFUL", "EXPIRED") or tx["status"] == status:
            return tx  # final states stay final
        tx["status"] = status
        if status == "SUCCESSFUL":
            tx["dateConfirmed"] = self.controls.clock.now().isoformat()
            tx["financialTransId"] = "MP" + secrets.token_hex(5).upper()
            tx["medium"] = tx["medium"] or "mobile money"
        if status in ("SUCCESSFUL", "FAILED", "EXPIRED"):
            self._webhook(tx)
        return tx

    def settle(self) -> None:
        """Answer every pending direct-pay prompt as its test phone number says, and settle
        every pending payout."""
        self.settle_payouts(force=True)
        for tx in list(self.transactions.values()):
            if tx["_kind"] == "direct" and tx["status"] in ("CREATED", "PENDING"):
                phone = tx["_phone"] or ""
                if phone.endswith("2"):
                    tx["status"] = "PENDING"
                else:
                    outcome = "FAILED" if phone.endswith("1") else "SUCCESSFUL"
                    self.set_status(tx["transId"], outcome)

    def settle_payouts(self, *, force: bool = False) -> None:
        if self.hold_payouts and not force:
            return
        for tx in list(self.transactions.values()):
            if tx["_kind"] == "payout" and tx["status"] == "PENDING":
                failed = (tx["_phone"] or "").endswith("3")
                if failed:
                    self.payout_balance += tx["amount"]
                    tx["reason"] = "The receiving account cannot accept this payment"
                self.set_status(tx["transId"], "FAILED" if failed else "SUCCESSFUL")

    def expire_due(self) -> None:
        """Checkout links expire 24 h after they were made (direct-pay never does)."""
        now = self.controls.clock.now()
        for tx in list(self.transactions.values()):
            made = datetime.fromisoformat(tx["dateInitiated"])
            if (tx["_kind"] == "link" and tx["status"] in ("CREATED", "PENDING", "FAILED")
                    and now - made >= EXPIRY):
                self.set_status(tx["transId"], "EXPIRED")

    # --- webhooks -------------------------------------------------------------------
    def public(self, tx: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in tx.items() if not k.startswith("_")}

    def _webhook(self, tx: dict[str, Any]) -> None:
        body = self.public(tx)
        if self.drop_webhooks:
            self.drop_webhooks -= 1
            return
        if self.hold_webhooks:
            self.held.append(body)
            return
        copies = 2 if self.duplicate_webhooks else 1
        self.duplicate_webhooks = max(0, self.duplicate_webhooks - 1)
        for _ in range(copies):
            self._post(body, self.webhook_secret)

    def _post(self, body: dict[str, Any], secret: str | None) -> None:
        async def send() -> None:
            headers = {"x-wh-secret": secret} if secret else {}
            self.sent.append(body)
            # Sent once, never retried, whatever the answer — as Fapshi does.
            with contextlib.suppress(httpx.HTTPError):
                await self.http.post(self.webhook_url, json=body, headers=headers)

        self.outgoing.send(send())

    def release_held(self, *, reverse: bool = False) -> None:
        held, self.held = self.held, []
        for body in reversed(held) if reverse else held:
            self._post(body, self.webhook_secret)

    async def flush(self) -> None:
        await self.outgoing.flush()

    # --- HTTP -----------------------------------------------------------------------
    def app(self) -> FastAPI:
        app = fake_app("fapshi", self.controls, _default_body)
        app.add_api_route("/initiate-pay", self._initiate, methods=["POST"])
        app.add_api_route("/direct-pay", self._direct, methods=["POST"])
        app.add_api_route("/payment-status/{trans_id}", self._status, methods=["GET"])
        app.add_api_route("/expire-pay", self._expire, methods=["POST"])
        app.add_api_route("/search", self._search, methods=["GET"])
        app.add_api_route("/payout", self._payout, methods=["POST"])
        app.add_api_route("/transaction/{user_id}", self._of_user, methods=["GET"])
        app.add_api_route("/balance", self._balance, methods=["GET"])
        app.add_api_route("/checkout/{trans_id}", self._checkout, methods=["GET"])
        app.add_api_route("/checkout/{trans_id}/{outcome}", self._decide, methods=["POST"])
        return app

    async def _auth_body(self, request: Request) -> dict[str, Any] | JSONResponse:
        if (request.headers.get("apiuser") != self.api_user
                or not secrets.compare_digest(request.headers.get("apikey", ""), self.api_key)):
            return _error(403, "Invalid API credentials")
        raw = await request.body()
        if request.method == "GET":
            return _error(400, "GET requests cannot carry a body") if raw else {}
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Request body must be JSON")
        return body if isinstance(body, dict) else _error(400, "Request body must be an object")

    def _check_common(self, body: dict[str, Any]) -> JSONResponse | None:
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 100:
            return _error(400, "amount is required and must be an integer >= 100")
        for key in ("externalId", "userId"):
            if key in body and not (isinstance(body[key], str) and ID_RE.match(body[key])):
                return _error(400, f"{key} must be 1-100 characters of a-z, A-Z, 0-9, _ or -")
        return None

    async def _initiate(self, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        if err := self._check_common(body):
            return err
        tx = self._new("link", body)
        link = f"{self.public_url}/checkout/{tx['transId']}"
        return JSONResponse({"message": "Request successful", "link": link,
                             "transId": tx["transId"], "dateInitiated": tx["dateInitiated"]})

    async def _direct(self, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        if err := self._check_common(body):
            return err
        phone = body.get("phone")
        if not isinstance(phone, str) or not PHONE_RE.match(phone):
            return _error(400, "phone must be a valid 9-digit number starting with 6")
        if body.get("medium") not in (None, "mobile money", "orange money"):
            return _error(400, "medium must be 'mobile money' or 'orange money'")
        tx = self._new("direct", body)
        tx["status"] = "PENDING"
        return JSONResponse({"message": "Request successful", "transId": tx["transId"],
                             "dateInitiated": tx["dateInitiated"]})

    async def _status(self, trans_id: str, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        self.expire_due()
        self.settle_payouts()
        tx = self.transactions.get(trans_id)
        return JSONResponse(self.public(tx)) if tx else _error(404, "Transaction not found")

    async def _payout(self, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        if err := self._check_common(body):
            return err
        medium = body.get("medium")
        if medium not in (None, "mobile money", "orange money", "fapshi"):
            return _error(400, "medium must be 'mobile money', 'orange money' or 'fapshi'")
        if medium == "fapshi":
            if not isinstance(body.get("email"), str) or "@" not in body["email"]:
                return _error(400, "email is required when medium is fapshi")
        elif not isinstance(body.get("phone"), str) or not PHONE_RE.match(body["phone"]):
            return _error(400, "phone must be a valid 9-digit number starting with 6")
        if body["amount"] > self.payout_balance:
            return _error(400, "Insufficient balance")
        self.payout_balance -= body["amount"]
        tx = self._new("payout", body)
        tx.update(status="PENDING", transType="Payout", revenue=body["amount"])
        await asyncio.sleep(self.payout_answer_delay)  # made, not yet answered
        if self.lose_payout_answers:
            self.lose_payout_answers -= 1
            return _error(504, "Gateway timeout")
        return JSONResponse({"message": "Request successful", "transId": tx["transId"],
                             "dateInitiated": tx["dateInitiated"]})

    async def _of_user(self, user_id: str, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        self.settle_payouts()
        return JSONResponse([self.public(t) for t in self.transactions.values()
                             if t.get("userId") == user_id])

    async def _expire(self, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        tx = self.transactions.get(str(body.get("transId")))
        if tx is None:
            return _error(404, "Transaction not found")
        if tx["status"] == "EXPIRED":
            return _error(400, "Link already expired")
        if tx["status"] == "SUCCESSFUL":
            return _error(400, "Transaction already successful")
        return JSONResponse(self.public(self.set_status(tx["transId"], "EXPIRED")))

    async def _search(self, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        q = request.query_params
        found = [self.public(t) for t in self.transactions.values()
                 if q.get("status", t["status"]).upper() == t["status"]]
        try:
            limit = min(100, max(1, int(q.get("limit", 10))))
        except ValueError:
            limit = 10  # invalid values are ignored, as Fapshi does
        found.sort(key=lambda t: t["dateInitiated"], reverse=q.get("sort") != "asc")
        return JSONResponse(found[:limit])

    async def _balance(self, request: Request) -> Response:
        body = await self._auth_body(request)
        if isinstance(body, Response):
            return body
        return JSONResponse({"service": "PrepSkul Sandbox", "balance": self.payout_balance,
                             "currency": "XAF"})

    async def _checkout(self, trans_id: str) -> Response:
        self.expire_due()
        tx = self.transactions.get(trans_id)
        if tx is None:
            return HTMLResponse("<h1>Unknown payment link</h1>", status_code=404)
        state = html.escape(tx["status"])
        buttons = "".join(
            f'<form method="post" action="{trans_id}/{o}"><button name="o" value="{o}">'
            f"{label}</button></form>"
            for o, label in (("pay", "Pay"), ("fail", "Fail the payment"), ("abandon", "Abandon"))
        )
        page = (f"<!doctype html><meta name=viewport content='width=device-width'>"
                f"<title>Fapshi sandbox checkout</title><h1>Fapshi sandbox checkout</h1>"
                f"<p>Amount: <b>{tx['amount']} XAF</b> — status <b id=status>{state}</b></p>"
                f"{buttons if tx['status'] in ('CREATED', 'PENDING', 'FAILED') else ''}")
        return HTMLResponse(page)

    async def _decide(self, trans_id: str, outcome: str) -> Response:
        self.expire_due()
        tx = self.transactions.get(trans_id)
        if tx is None or outcome not in ("pay", "fail", "abandon"):
            return HTMLResponse("<h1>Unknown payment link</h1>", status_code=404)
        if tx["status"] in ("EXPIRED", "SUCCESSFUL"):
            # An expired link (by time or by `expire-pay`) takes no more money, and a paid
            # one takes no second payment: the payer sees why, nothing is charged.
            word = "has expired" if tx["status"] == "EXPIRED" else "is already paid"
            return HTMLResponse(f"<h1>This payment link {word}</h1>", status_code=400)
        if outcome != "abandon":
            self.set_status(trans_id, "SUCCESSFUL" if outcome == "pay" else "FAILED")
        target = tx.get("redirectUrl") or f"{self.public_url}/checkout/{trans_id}"
        return RedirectResponse(target, status_code=303)
