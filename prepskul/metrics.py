"""Prometheus metrics an operator would alert on. Counters live in each process; queue
depth is read from the database at scrape time, so every process reports the same truth."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
