"""Which handler runs each job kind, and which jobs recur."""

from __future__ import annotations

from datetime import timedelta

from prepskul.jobs import meetings, notify, outcomes, payments, recordings
from prepskul.jobs.worker import Handler, Schedule, Worker
from prepskul.runtime import Runtime


def handlers() -> dict[str, Handler]:
    return {
        "send_email": notify.send_email,
        "send_push": notify.send_push,
        "send_reminders": notify.send_reminders,
        "purge_change_log": notify.purge_change_log,
        "process_fapshi_webhook": payments.process_fapshi_webhook,
        "reconcile_payments": payments.reconcile_payments,
        "expire_payment": payments.expire_payment,
        "expire_stale_sessions": payments.expire_stale_sessions,
        "create_meeting": meetings.create_meeting,
        "update_meeting": meetings.update_meeting,
        "cancel_meeting": meetings.cancel_meeting,
        "process_fathom_webhook": recordings.process_fathom_webhook,
        "mark_missing_recordings": recordings.mark_missing_recordings,
        "decide_outcomes": outcomes.decide_outcomes,
        "settle_silent_outcomes": outcomes.settle_silent_outcomes,
    }


def schedules(rt: Runtime) -> list[Schedule]:
    # Reconciliation runs often; each transaction's own backoff decides whether it is asked.
    return [
        Schedule("reconcile_payments", timedelta(seconds=30)),
        Schedule("expire_stale_sessions", timedelta(minutes=5)),
        Schedule("mark_missing_recordings", timedelta(minutes=15)),
        Schedule("send_reminders", timedelta(minutes=1)),
        Schedule("purge_change_log", timedelta(hours=1)),
        Schedule("decide_outcomes", timedelta(minutes=5)),
        Schedule("settle_silent_outcomes", timedelta(minutes=15)),
    ]


def build_worker(rt: Runtime, *, name: str | None = None) -> Worker:
    worker = Worker(rt, handlers(), schedules(rt))
    if name:
        worker.name = name
    return worker
