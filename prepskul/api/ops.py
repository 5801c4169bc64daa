"""Health, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from prepskul import metrics
from prepskul.api.deps import RuntimeDep
from prepskul.api.errors import problem
from prepskul.db.migrate import current_revision, head_revision

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; says nothing of its dependencies."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
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


@router.get("/metrics")
async def prometheus(rt: RuntimeDep) -> Response:
    try:
        async with rt.sessions() as db:
            for status in ("queued", "running", "done", "dead"):
                metrics.JOBS.labels(status).set(0)
            for status, n in await db.execute(
                text("SELECT status, count(*) FROM prepskul.jobs GROUP BY status")
            ):
                metrics.JOBS.labels(status).set(n)
            oldest = await db.scalar(text(
                "SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0) FROM prepskul.jobs"
                " WHERE status = 'queued' AND run_at <= now()"
            ))
            metrics.OLDEST_QUEUED.set(float(oldest or 0))
            for provider, state, n in await db.execute(text(
                "SELECT provider, state, count(*) FROM prepskul.webhook_events"
                " GROUP BY provider, state"
            )):
                metrics.INBOX.labels(provider, state).set(n)
            for what, sql in ATTENTION_QUERIES.items():
                metrics.ATTENTION.labels(what).set(await db.scalar(text(sql)) or 0)
    except Exception:  # metrics must answer even when the database does not
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


ATTENTION_QUERIES = {
    "meet_link_failed": "SELECT count(*) FROM prepskul.sessions WHERE meet_state = 'failed'"
    " AND status IN ('paid','scheduled')",
    "recording_missing": "SELECT count(*) FROM prepskul.sessions"
    " WHERE recording_state = 'missing'",
    "payments_flagged": "SELECT count(*) FROM prepskul.payments WHERE flag IS NOT NULL",
    "recordings_unmatched": "SELECT count(*) FROM prepskul.recordings WHERE session_id IS NULL",
    # Money out: payouts waiting for an operator or for Fapshi, and those that failed in the
    # last day (their amount went back; someone should tell the tutor or fix the number).
    "payouts_pending": "SELECT count(*) FROM prepskul.payouts"
    " WHERE status IN ('requested','approved','sending','sent')",
    "payouts_failed": "SELECT count(*) FROM prepskul.payouts WHERE status = 'failed'"
    " AND finished_at > now() - interval '1 day'",
    "refunds_owed": "SELECT count(*) FROM prepskul.ledger_accounts"
    " WHERE kind = 'refund_owed' AND balance_xaf > 0",
}
