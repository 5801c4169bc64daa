"""Asking Fapshi to collect an amount — a checkout link or a phone prompt — for a session or
a plan's invoice alike, with Fapshi's refusals turned into answers a person can act on."""

from __future__ import annotations

from prepskul.db.models import Profile
from prepskul.domain.errors import Conflict, InvalidInput
from prepskul.providers.errors import PermanentProviderError, RetryableProviderError
from prepskul.providers.fapshi.models import Initiated
from prepskul.runtime import Runtime


async def initiate(
    rt: Runtime, payer: Profile, *, method: str, phone: str | None, medium: str | None,
    amount: int, external_id: str, redirect: str, note: str,
) -> Initiated:
    user = payer.id.hex
    try:
        if method == "direct":
            assert phone is not None
            return await rt.fapshi.direct_pay(
                amount=amount, phone=phone, medium=medium, name=payer.full_name,
                email=payer.email, external_id=external_id, user_id=user, message=note)
        return await rt.fapshi.initiate_pay(
            amount=amount, external_id=external_id, redirect_url=redirect,
            email=payer.email, user_id=user, message=note)
    except PermanentProviderError as exc:
        message = f"Fapshi refused the payment: {exc.message}"
        raise InvalidInput("payment_refused", message) from None
    except RetryableProviderError:
        raise Conflict("payment_provider_unavailable",
                       "Fapshi is not answering right now; try again in a minute.") from None
