"""Which handler runs each job kind, and which jobs recur."""

from __future__ import annotations

from datetime import timedelta

from prepskul.jobs import meetings, money, notify, payments, recordings
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
        "release_earnings": money.release_earnings,
        "send_payout": money.send_payout,
        "reconcile_payouts": money.reconcile_payouts,
    }


def schedules(rt: Runtime) -> list[Schedule]:
    # Reconciliation runs often; each transaction's own backoff decides whether it is asked.
    return [
        Schedule("reconcile_payments", timedelta(seconds=30)),
        Schedule("expire_stale_sessions", timedelta(minutes=5)),
        Schedule("mark_missing_recordings", timedelta(minutes=15)),
        Schedule("send_reminders", timedelta(minutes=1)),
        Schedule("purge_change_log", timedelta(hours=1)),
        Schedule("release_earnings", timedelta(minutes=5)),
        Schedule("reconcile_payouts", timedelta(seconds=30)),
    ]


def build_worker(rt: Runtime, *, name: str | None = None) -> Worker:
    worker = Worker(rt, handlers(), schedules(rt))
    if name:
        worker.name = name
    return worker
