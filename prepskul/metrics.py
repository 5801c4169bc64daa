"""Prometheus metrics an operator would alert on. Counters live in each process; queue
depth is read from the database at scrape time, so every process reports the same truth.

`serve` exports everything at `/metrics`; a `worker` exports what it observes itself
(`WORKER`: provider calls, webhook processing, payment → Meet) on its own metrics port."""

from __future__ import annotations

import secrets

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from prepskul.config import Settings

WEBHOOKS = Counter(
    "prepskul_webhooks_total", "Webhook deliveries by provider and outcome",
    ["provider", "outcome"],
)
PROVIDER_CALLS = Histogram(
    "prepskul_provider_call_seconds", "Calls to providers", ["provider", "operation", "outcome"],
)
JOBS = Gauge("prepskul_jobs", "Jobs by status", ["status"])
INBOX = Gauge("prepskul_webhook_events", "Stored webhook deliveries by provider and state "
              "(received, processed, failed, unreadable, rejected)", ["provider", "state"])
DATABASE_UP = Gauge("prepskul_database_up", "1 if this scrape could read the database; "
                    "0 if not (queue figures are then absent, not zero)")
OLDEST_QUEUED = Gauge("prepskul_jobs_oldest_queued_seconds", "Age of the oldest due job")
SSE_SUBSCRIBERS = Gauge("prepskul_sse_subscribers", "Open /api/events streams in this process")
SSE_DROPPED = Counter(
    "prepskul_sse_dropped", "/api/events streams the server ended: 'slow', more events "
    "waiting for the client's socket than the bound (services/live.py MAX_PENDING); "
    "'over_cap', a person's oldest beyond SSE_MAX_STREAMS_PER_PERSON", ["reason"])
for _reason in ("slow", "over_cap"):
    SSE_DROPPED.labels(_reason)  # exported at 0 from the start
ATTENTION = Gauge(
    "prepskul_attention", "Things an operator must look at", ["what"],
)

# The latencies BENCHMARKS.md measures, live. Buckets span the fast path (a provider's few
# hundred ms) to a backlog (minutes), where an operator needs to tell them apart.
_SLOW_PATH = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
PAYMENT_TO_MEET = Histogram(
    "prepskul_payment_to_meet_seconds", "From learning of a payment (its webhook's arrival in "
    "the inbox, or the check that found it) to the commit of the session's Meet link",
    buckets=_SLOW_PATH,
)
WEBHOOK_PROCESSING = Histogram(
    "prepskul_webhook_processing_seconds", "From a webhook delivery's arrival in the inbox to "
    "its processing recording the outcome", ["provider"], buckets=(0.05, *_SLOW_PATH),
)
CHANGE_DELIVERY = Histogram(
    "prepskul_change_delivery_seconds", "From a change's transaction to its hand-over to this "
    "process's live (SSE) subscribers", buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                                 2.5, 5.0, 10.0),
)

WORKER = CollectorRegistry(auto_describe=True)
for _family in (PROVIDER_CALLS, PAYMENT_TO_MEET, WEBHOOK_PROCESSING):
    WORKER.register(_family)


def refusal(settings: Settings, authorization: str) -> tuple[int, str, str] | None:
    """Why a scrape is refused (status, code, message), or None. With `METRICS_TOKEN` set,
    only `Authorization: Bearer <it>` may read; production without one keeps metrics closed
    (queue depths and counts are for operators); the sandbox leaves them open."""
    expected = settings.metrics_token
    if expected is None:
        if settings.is_sandbox:
            return None
        return 403, "metrics_token_unset", "Set METRICS_TOKEN and scrape with it as a Bearer token."
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() == "bearer" and secrets.compare_digest(given.encode(), expected.encode()):
        return None
    return 401, "metrics_token_required", "Send 'Authorization: Bearer <METRICS_TOKEN>'."
