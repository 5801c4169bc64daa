"""One HTTP call to a provider: timeouts, a few quick retries on network errors, 5xx and
429 (honouring Retry-After / RateLimit-Reset), and typed errors. Each client says how to read
its provider's error body; longer waits are the job queue's business, not ours."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from prepskul import metrics
from prepskul.providers.errors import PermanentProviderError, RetryableProviderError

M = TypeVar("M", bound=BaseModel)
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_INLINE_WAIT = 5.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    for header in ("retry-after", "ratelimit-reset"):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


async def call(
    http: httpx.AsyncClient,
    provider: str,
    operation: str,
    method: str,
    url: str,
    *,
    error_message: Callable[[httpx.Response], str],
    is_retryable: Callable[[httpx.Response], bool] = lambda r: r.status_code in RETRYABLE_STATUS,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
    attempts: int = 3,
    timeout: float | None = None,  # noqa: ASYNC109
    ok: tuple[int, ...] = (200, 201, 204),
) -> httpx.Response:
    """The response when its status is in `ok`; otherwise a typed error. Statuses the
    caller treats as meaningful (e.g. 409, 410) can be added to `ok`."""
    last: RetryableProviderError | None = None
    for attempt in range(1, attempts + 1):
        started = time.perf_counter()
        try:
            response = await http.request(
                method, url, headers=headers, json=json, params=params,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        except httpx.TransportError as exc:
            _observe(provider, operation, "network", started)
            last = RetryableProviderError(provider, f"{operation}: {type(exc).__name__}: {exc}")
        else:
            if response.status_code in ok:
                _observe(provider, operation, "ok", started)
                return response
            message = f"{operation}: {error_message(response)}"
            if not is_retryable(response):
                _observe(provider, operation, "refused", started)
                raise PermanentProviderError(provider, message, status=response.status_code)
            _observe(provider, operation, "retryable", started)
            last = RetryableProviderError(
                provider, message, status=response.status_code,
                retry_after=retry_after_seconds(response),
            )
        if attempt < attempts:
            wait = last.retry_after if last.retry_after is not None else 0.2 * 2**attempt
            if wait > MAX_INLINE_WAIT:
                break  # too long to hold a worker: let the queue reschedule
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))
    assert last is not None
    raise last


def _observe(provider: str, operation: str, outcome: str, started: float) -> None:
    metrics.PROVIDER_CALLS.labels(provider, operation, outcome).observe(
        time.perf_counter() - started
    )


def json_message(response: httpx.Response, *keys: str) -> str:
    """A provider's own words from its JSON error body, or the start of the raw text."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]!r}"
    for key in keys:
        node: Any = body
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            return node
    return f"HTTP {response.status_code}"


def json_body(provider: str, operation: str, response: httpx.Response) -> Any:
    """The answer's JSON; an answer that is not JSON (a proxy's HTML page, a truncated body)
    is a passing fault to retry, with a reason an operator can read."""
    try:
        return response.json()
    except ValueError:
        raise RetryableProviderError(
            provider, f"{operation}: answered something that is not JSON: "
            f"{response.text[:120]!r}", status=response.status_code) from None


def parsed(provider: str, operation: str, response: httpx.Response, model: type[M]) -> M:
    """The answer as `model`; a well-formed answer of the wrong shape is retryable too."""
    try:
        return model.model_validate(json_body(provider, operation, response))
    except ValidationError as exc:
        raise RetryableProviderError(
            provider, f"{operation}: unexpected answer: {exc.errors()[0]['msg']} at "
            f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}",
            status=response.status_code) from None
