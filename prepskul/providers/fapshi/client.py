"""An async Fapshi client: initiate-pay, direct-pay, payment-status, expire-pay, and
for a payout service: payout and the transactions of a userId."""

from __future__ import annotations

from typing import Any

import httpx

from prepskul.providers.errors import PermanentProviderError
from prepskul.providers.fapshi import TEST_KEY_PREFIX
from prepskul.providers.fapshi.models import Initiated, Transaction
from prepskul.providers.transport import call, json_body, json_message, parsed

PROVIDER = "fapshi"


def _message(response: httpx.Response) -> str:
    return json_message(response, "message")


class FapshiClient:
    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, api_user: str, api_key: str
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"apiuser": api_user, "apikey": api_key}
        self.is_live = not api_key.startswith(TEST_KEY_PREFIX)

    async def _call(self, operation: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return await call(
            self._http, PROVIDER, operation, method, f"{self.base_url}{path}",
            headers=self._headers, error_message=_message, **kw,
        )

    async def initiate_pay(
        self, *, amount: int, external_id: str, redirect_url: str, email: str | None = None,
        user_id: str | None = None, message: str | None = None,
    ) -> Initiated:
        body = _compact({"amount": amount, "externalId": external_id, "redirectUrl": redirect_url,
                         "email": email, "userId": user_id, "message": message})
        # Creating a transaction is not idempotent at Fapshi: no inline retries, the
        # caller's job retries after checking what exists.
        response = await self._call("initiate-pay", "POST", "/initiate-pay", json=body, attempts=1)
        return parsed(PROVIDER, "initiate", response, Initiated)

    async def direct_pay(
        self, *, amount: int, phone: str, external_id: str, medium: str | None = None,
        name: str | None = None, email: str | None = None, user_id: str | None = None,
        message: str | None = None,
    ) -> Initiated:
        body = _compact({"amount": amount, "phone": phone, "externalId": external_id,
                         "medium": medium, "name": name, "email": email, "userId": user_id,
                         "message": message})
        response = await self._call("direct-pay", "POST", "/direct-pay", json=body, attempts=1)
        return parsed(PROVIDER, "initiate", response, Initiated)

    async def payment_status(self, trans_id: str) -> Transaction:
        response = await self._call("payment-status", "GET", f"/payment-status/{trans_id}")
        return parsed(PROVIDER, "payment-status", response, Transaction)

    async def expire_pay(self, trans_id: str) -> Transaction | None:
        """Expire a checkout link; None when it had already expired (400 from Fapshi)."""
        response = await self._call(
            "expire-pay", "POST", "/expire-pay", json={"transId": trans_id}, ok=(200, 400)
        )
        if response.status_code == 400:
            if "expired" in _message(response).lower():
                return None
            raise PermanentProviderError(PROVIDER, f"expire-pay: {_message(response)}", status=400)
        return parsed(PROVIDER, "expire-pay", response, Transaction)

    async def payout(
        self, *, amount: int, phone: str, external_id: str, user_id: str,
        name: str | None = None, message: str | None = None,
    ) -> Initiated:
        """Send money to a phone. Not idempotent at Fapshi: never retried inline; a caller
        that lost the answer looks the payout up with `transactions_of(user_id)` first."""
        body = _compact({"amount": amount, "phone": phone, "externalId": external_id,
                         "userId": user_id, "name": name, "message": message})
        response = await self._call("payout", "POST", "/payout", json=body, attempts=1)
        return parsed(PROVIDER, "payout", response, Initiated)

    async def transactions_of(self, user_id: str) -> list[Transaction]:
        response = await self._call("transactions", "GET", f"/transaction/{user_id}")
        return [Transaction.model_validate(t)
                for t in json_body(PROVIDER, "transactions", response)]
    async def balance(self) -> dict[str, Any]:
        """A harmless authenticated call (used by `doctor` to check credentials)."""
        response = await self._call("balance", "GET", "/balance")
        body: dict[str, Any] = json_body(PROVIDER, "balance", response)
        return body


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}
