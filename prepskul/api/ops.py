"""Health, readiness and metrics."""

from __future__ import annotations

import logging
import math
from typing import Annotated

from fastapi import APIRouter, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prepskul import logs, metrics
from prepskul.api.deps import RuntimeDep
from prepskul.api.errors import errors, problem
from prepskul.config import Settings
from prepskul.db.migrate import current_revision, head_revision
from prepskul.runtime import Runtime
from prepskul.services import operations

router = APIRouter(tags=["ops"])
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; says nothing of its dependencies."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses=errors(503))
async def readyz(rt: RuntimeDep) -> Response | dict[str, str]:
    """Ready to serve: the database answers and its schema is the one this code expects."""
    try:
        revision = await current_revision(rt.engine)
    except Exception as exc:  # any database failure means "not ready", never a 500
        return problem(503, "database_unavailable", f"The database does not answer: {exc!r}")
    if revision != head_revision():
        return problem(503, "migrations_pending",
                       f"The database is at {revision}, the code needs {head_revision()}: "
                       "run `prepskul migrate`.")
    return {"status": "ready", "revision": revision or ""}


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text exposition format",
          "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
    **errors(401, 403)})
async def prometheus(rt: RuntimeDep, authorization: Annotated[str, Header()] = "") -> Response:
    """Prometheus text. With `METRICS_TOKEN` set, only for `Authorization: Bearer <it>`;
    production without one keeps it closed (queue depths and counts are for operators)."""
    refusal = _metrics_refusal(rt.settings, authorization)
    if refusal is not None:
        return refusal
    try:
        readings = await _read_database(rt)
    except Exception as exc:  # answer anyway, saying the database is down: never "empty"
        log.warning("metrics: the database does not answer (%s)", logs.describe(exc))
        readings = None
    _publish(readings)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _metrics_refusal(settings: Settings, authorization: str) -> Response | None:
    refused = metrics.refusal(settings, authorization)
    if refused is None:
        return None
    response = problem(*refused)
    if refused[0] == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _read_database(rt: Runtime) -> operations.Gauges:
    """Everything the gauges show, read first: a failure half way publishes nothing."""
    async with rt.sessions() as db:
        return await operations.gauges(db)


def _publish(readings: operations.Gauges | None) -> None:
    """Set the gauges; without readings, `prepskul_database_up 0` and no queue figures at
    all (a zero would read as "nothing waiting")."""
    for family in (metrics.JOBS, metrics.INBOX, metrics.ATTENTION):
        family.clear()
    metrics.DATABASE_UP.set(0 if readings is None else 1)
    if readings is None:
        metrics.OLDEST_QUEUED.set(math.nan)
        return
    for status, n in readings.jobs.items():
        metrics.JOBS.labels(status).set(n)
    metrics.OLDEST_QUEUED.set(readings.oldest_queued)
    for (provider, state), n in readings.inbox.items():
        metrics.INBOX.labels(provider, state).set(n)
    for what, n in readings.attention.items():
        metrics.ATTENTION.labels(what).set(n)

