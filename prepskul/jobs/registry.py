"""Which handler runs each job kind, and which jobs recur."""

from __future__ import annotations

from datetime import timedelta

from prepskul.jobs import (
    meetings,
    money,
    notifications,
    outcomes,
    payments,
    plans,
    recordings,
    retention,
)
from prepskul.jobs.worker import Handler, Schedule, Worker
from prepskul.queue.kinds import JobKind
from prepskul.runtime import Runtime


def handlers() -> dict[JobKind, Handler]:
    return {
        JobKind.SEND_EMAIL: notifications.send_email,
        JobKind.SEND_PUSH: notifications.send_push,
        JobKind.SEND_REMINDERS: notifications.send_reminders,
        JobKind.PURGE_CHANGE_LOG: retention.purge_change_log,
        JobKind.PURGE_FINISHED_JOBS: retention.purge_finished_jobs,
        JobKind.PROCESS_FAPSHI_WEBHOOK: payments.process_fapshi_webhook,
        JobKind.RECONCILE_PAYMENTS: payments.reconcile_payments,
        JobKind.EXPIRE_PAYMENT: payments.expire_payment,
        JobKind.EXPIRE_STALE_SESSIONS: payments.expire_stale_sessions,
        JobKind.CREATE_MEETING: meetings.create_meeting,
        JobKind.UPDATE_MEETING: meetings.update_meeting,
        JobKind.CANCEL_MEETING: meetings.cancel_meeting,
        JobKind.PROCESS_FATHOM_WEBHOOK: recordings.process_fathom_webhook,
        JobKind.MARK_MISSING_RECORDINGS: recordings.mark_missing_recordings,
        JobKind.DECIDE_OUTCOMES: outcomes.decide_outcomes,
        JobKind.SETTLE_SILENT_OUTCOMES: outcomes.settle_silent_outcomes,
        JobKind.RELEASE_EARNINGS: money.release_earnings,
        JobKind.SEND_PAYOUT: money.send_payout,
        JobKind.RECONCILE_PAYOUTS: money.reconcile_payouts,
        JobKind.PLAN_BILLING: plans.plan_billing,
    }


def schedules(rt: Runtime) -> list[Schedule]:
    # Reconciliation runs often; each transaction's own backoff decides whether it is asked.
    return [
        Schedule(JobKind.RECONCILE_PAYMENTS, timedelta(seconds=30)),
        Schedule(JobKind.EXPIRE_STALE_SESSIONS, timedelta(minutes=1)),
        Schedule(JobKind.MARK_MISSING_RECORDINGS, timedelta(minutes=15)),
        Schedule(JobKind.SEND_REMINDERS, timedelta(minutes=1)),
        Schedule(JobKind.PURGE_CHANGE_LOG, timedelta(hours=1)),
        Schedule(JobKind.PURGE_FINISHED_JOBS, timedelta(hours=1)),
        Schedule(JobKind.DECIDE_OUTCOMES, timedelta(minutes=5)),
        Schedule(JobKind.SETTLE_SILENT_OUTCOMES, timedelta(minutes=15)),
        Schedule(JobKind.RELEASE_EARNINGS, timedelta(minutes=5)),
        Schedule(JobKind.RECONCILE_PAYOUTS, timedelta(seconds=30)),
        # Invoices issued, reminded, overdue; plans paused past grace; reservations extended.
        Schedule(JobKind.PLAN_BILLING, timedelta(minutes=1)),
    ]


def build_worker(rt: Runtime, *, name: str | None = None) -> Worker:
    worker = Worker(rt, handlers(), schedules(rt))
    if name:
        worker.name = name
    return worker
