"""The latencies BENCHMARKS.md measures are observed live for operators: payment → Meet
link and webhook processing by the worker (on its own metrics port), commit → live stream
by each `serve`."""

import asyncio
import socket
from typing import Any

import httpx
from prometheus_client import REGISTRY

from prepskul.jobs.exporter import serve_metrics


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_count", labels) or 0.0


async def test_a_paid_session_is_observed_from_webhook_to_meet_link_and_to_live_streams(
    paid_session: Any,
) -> None:
    before = (_count("prepskul_payment_to_meet_seconds"),
              _count("prepskul_webhook_processing_seconds", provider="fapshi"),
              _count("prepskul_change_delivery_seconds"))
    await paid_session("student")
    assert _count("prepskul_payment_to_meet_seconds") == before[0] + 1
    assert _count("prepskul_webhook_processing_seconds", provider="fapshi") == before[1] + 1
    for _ in range(100):  # the live hub hands the committed changes over on its own task
        if _count("prepskul_change_delivery_seconds") > before[2]:
            break
        await asyncio.sleep(0.05)
    assert _count("prepskul_change_delivery_seconds") > before[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_workers_metrics_port_shows_what_it_observes_to_the_token_holder_only(
    rt: Any,
) -> None:
    port = _free_port()
    server = await serve_metrics(rt.settings.model_copy(update={"metrics_token": "s3cret"}),
                                 "127.0.0.1", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            refused = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            shown = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
            elsewhere = await client.get("/", headers={"Authorization": "Bearer s3cret"})
    finally:
        server.close()
    assert (refused.status_code, refused.json()["code"]) == (401, "metrics_token_required")
    assert wrong.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert shown.status_code == 200
    for family in ("prepskul_payment_to_meet_seconds", "prepskul_webhook_processing_seconds",
                   "prepskul_provider_call_seconds"):
        assert f"# HELP {family} " in shown.text
    # Queue depths are serve's to report (read from the database): a worker's zero would lie.
    assert "prepskul_database_up" not in shown.text and "prepskul_jobs " not in shown.text
    assert elsewhere.status_code == 404
