"""Every job kind and job status, as enums: a mistyped kind is an AttributeError where it is
written (and a mypy error), not a job that dies for want of a handler."""

from __future__ import annotations

from enum import StrEnum

from prepskul.db.models.jobs import JobStatus  # defined with the row it describes

__all__ = ["WEBHOOK_JOBS", "JobKind", "JobStatus"]


class JobKind(StrEnum):
    SEND_EMAIL = "send_email"
    SEND_PUSH = "send_push"
    SEND_REMINDERS = "send_reminders"
    PURGE_CHANGE_LOG = "purge_change_log"
    PURGE_FINISHED_JOBS = "purge_finished_jobs"
    PROCESS_FAPSHI_WEBHOOK = "process_fapshi_webhook"
    RECONCILE_PAYMENTS = "reconcile_payments"
    EXPIRE_PAYMENT = "expire_payment"
    EXPIRE_STALE_SESSIONS = "expire_stale_sessions"
    CREATE_MEETING = "create_meeting"
    UPDATE_MEETING = "update_meeting"
    CANCEL_MEETING = "cancel_meeting"
    PROCESS_FATHOM_WEBHOOK = "process_fathom_webhook"
    MARK_MISSING_RECORDINGS = "mark_missing_recordings"
    DECIDE_OUTCOMES = "decide_outcomes"
    SETTLE_SILENT_OUTCOMES = "settle_silent_outcomes"
    RELEASE_EARNINGS = "release_earnings"
    SEND_PAYOUT = "send_payout"
    RECONCILE_PAYOUTS = "reconcile_payouts"
    PLAN_BILLING = "plan_billing"



# The job that processes a stored delivery, by the provider that sent it.
WEBHOOK_JOBS: dict[str, JobKind] = {
    "fapshi": JobKind.PROCESS_FAPSHI_WEBHOOK,
    "fathom": JobKind.PROCESS_FATHOM_WEBHOOK,
}
