"""All configuration in one typed object, read once at start and passed in.

Names are the contract of DESIGN.md. `sandbox` (the default) replaces any provider whose
settings are absent by its fake; `production` refuses to start with a missing or malformed
setting and names it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from prepskul.config_checks import (
    fathom_secret_problems,
    key_file_problems,
    provider_url_problems,
    public_url_problems,
    secret_strength_problems,
)

# Public on purpose: it only ever authenticates the fake Fathom to a sandbox.
SANDBOX_FATHOM_SECRET = "whsec_c2FuZGJveC1mYXRob20tc2VjcmV0LW5vdC1mb3ItcHJvZA=="


# The settings that point a client somewhere else than a provider's real address.
PROVIDER_URL_SETTINGS = ("fapshi_base_url", "google_calendar_base_url", "google_token_uri",
                         "fathom_base_url", "fcm_base_url", "supabase_jwks_url")


HOW_TO_OBTAIN = {"fathom_webhook_secret": " (`prepskul fathom webhook register` prints it)"}


class Env(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)
    # Settings a production process may still lack (see `SetupSettings`).
    obtained_later: ClassVar[frozenset[str]] = frozenset()

    prepskul_env: Env = Env.SANDBOX
    database_url: str | None = None
    # Supabase's pooler in transaction mode (port 6543) cannot keep prepared statements or
    # LISTEN: say so here, and give the direct (or session-mode) URL for LISTEN.
    database_pool_mode: Literal["direct", "session", "transaction"] = "direct"
    database_listen_url: str | None = None
    data_dir: Path = Field(default=Path(".prepskul"), alias="PREPSKUL_DATA_DIR")
    public_base_url: str = "http://127.0.0.1:8000"

    fapshi_api_user: str | None = None
    fapshi_api_key: str | None = None
    fapshi_base_url: str | None = None
    fapshi_webhook_secret: str | None = None

    google_service_account_file: Path | None = None
    google_delegated_user: str | None = None
    google_oauth_client_id: str | None = None
    google_oauth_client_secret: str | None = None
    google_oauth_refresh_token: str | None = None
    google_calendar_id: str = "primary"
    google_calendar_base_url: str | None = None
    google_token_uri: str = "https://oauth2.googleapis.com/token"

    va_email: str = "va@prepskul.test"

    fathom_api_key: str | None = None
    fathom_base_url: str | None = None
    fathom_webhook_secret: str | None = None  # several, space-separated, for rotation

    supabase_jwt_secret: str | None = None
    supabase_jwks_url: str | None = None

    smtp_url: str | None = None
    email_from: str = "PrepSkul <sessions@prepskul.test>"
    fcm_credentials_file: Path | None = None
    fcm_base_url: str | None = None

    # Business knobs, with the defaults the issues name.
    booking_min_notice_minutes: int = 120  # each is a tutor's default; they may set their own
    booking_horizon_days: int = 120
    booking_buffer_minutes: int = 0
    trial_price_30_xaf: int = 2000
    trial_price_60_xaf: int = 3500
    reconcile_interval_seconds: int = 300
    # Unpaid and unapproved bookings hold the tutor's time only this long (issue 15).
    hold_payment_minutes: int = Field(default=30, gt=0)
    hold_approval_hours: int = Field(default=48, gt=0)
    approval_reminder_hours: int = Field(default=12, gt=0)  # before a request lapses
    max_open_unpaid_bookings: int = Field(default=3, gt=0)
    # A proposed move of a paid session awaits the other party's answer this long (issue 17).
    move_answer_hours: int = Field(default=48, gt=0)
    # A parent's second child's regular sessions in a month cost this much less (issue 17).
    sibling_discount_percent: int = Field(default=15, ge=0, le=90)
    booking_attempts_per_hour: int = Field(default=20, gt=0)  # also the burst
    # A parent's invitation code for a child lasts this long; a person may try this many
    # codes an hour (also the burst), so guessing one is out of reach.
    invitation_valid_hours: int = Field(default=24, gt=0, le=24 * 14)
    invitation_attempts_per_hour: int = Field(default=10, gt=0)
    # Plans (issue 18): percent off each lesson by billing frequency; how long before a
    # period an invoice is issued; how long after its due date an unpaid one pauses the plan.
    plan_discount_monthly_percent: int = Field(default=10, ge=0, le=90)
    plan_discount_biweekly_percent: int = Field(default=5, ge=0, le=90)
    plan_discount_weekly_percent: int = Field(default=0, ge=0, le=90)
    plan_invoice_lead_days: int = Field(default=7, ge=1, le=60)
    plan_grace_hours: int = Field(default=48, ge=0)
    recording_missing_after_hours: int = 6
    job_retention_days: int = Field(default=7, ge=1)  # finished jobs; dead ones stay
    # After the lesson (issue 20): the Join button opens before the start; a join later
    # than the grace after the start is a no-show; the outcome is decided once the grace
    # after the end has passed; the tutor's report and the family's confirmation windows.
    join_opens_minutes: int = Field(15, ge=0)
    join_grace_minutes: int = Field(20, ge=0)
    report_window_hours: int = Field(24, ge=1)
    confirm_window_hours: int = Field(72, ge=1)
    max_body_bytes: int = 5 * 1024 * 1024  # webhooks (a long transcript fits many times)
    max_api_body_bytes: int = 256 * 1024  # everything else
    # A request's line and headers: a Supabase token and our cookies take ~2 KB.
    max_header_bytes: int = 32 * 1024
    header_timeout_seconds: float = 10.0  # to receive them (slow-loris)
    # Hostile traffic (docs/security.md).
    sse_max_streams_per_person: int = 5
    metrics_token: str | None = None  # /metrics wants `Authorization: Bearer <it>`
    api_docs: bool | None = None  # /docs and /redoc; default: on in the sandbox only
    provider_timeout_seconds: float = 15.0
    meet_poll_base_seconds: float = 0.1  # pending conference: re-read at once, then 0.1, 0.2, … s

    # Money (issue 19). A booking records the policy in force when it is made.
    commission_percent: int = Field(default=15, ge=0, le=100)
    trial_commission_percent: int = Field(default=15, ge=0, le=100)
    free_cancel_hours: int = Field(default=24, ge=0)
    late_cancel_refund_percent: int = Field(default=50, ge=0, le=100)
    trial_free_cancel_hours: int = Field(default=4, ge=0)
    trial_late_cancel_refund_percent: int = Field(default=50, ge=0, le=100)
    earnings_hold_hours: float = Field(default=24, ge=0)
    payout_minimum_xaf: int = Field(default=5000, ge=100)
    # Payouts below this go out without an operator; 0: every payout waits for one.
    payout_auto_approve_below_xaf: int = Field(default=0, ge=0)
    # Fapshi: a service with payouts enabled can no longer collect, so payouts may use
    # their own service's keys; unset, the collection keys are used.
    fapshi_payout_api_user: str | None = None
    fapshi_payout_api_key: str | None = None

    @model_validator(mode="after")
    def _production_is_complete(self) -> Self:
        problems = list(fathom_secret_problems(self.fathom_webhook_secret))
        if self.prepskul_env is Env.PRODUCTION:
            if missing := self.missing_for_production():
                problems.insert(0, "production needs these settings: " + ", ".join(missing)
                                + " (set them, or use PREPSKUL_ENV=sandbox for fakes)")
            problems += self._production_problems()
        if self.database_pool_mode == "transaction" and not self.database_listen_url:
            problems.append(
                "DATABASE_LISTEN_URL is required with DATABASE_POOL_MODE=transaction: "
                "LISTEN/NOTIFY cannot pass through a transaction pooler; give the direct "
                "(port 5432) or session-mode connection string")
        for name in ("google_service_account_file", "fcm_credentials_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                problems.append(f"{name.upper()}: {path} is not a readable file")
        if not self.public_base_url.startswith(("http://", "https://")):
            problems.append("PUBLIC_BASE_URL must start with http:// or https://")
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    def _production_problems(self) -> list[str]:
        problems = list(public_url_problems(self.public_base_url))
        problems += secret_strength_problems(fapshi=self.fapshi_webhook_secret,
                                             jwt=self.supabase_jwt_secret)
        for name in PROVIDER_URL_SETTINGS:
            problems += provider_url_problems(name.upper(), getattr(self, name))
        for name in ("google_service_account_file", "fcm_credentials_file"):
            problems += key_file_problems(name.upper(), getattr(self, name))
        return problems

    def missing_for_production(self) -> list[str]:
        missing: list[str] = []
        for name in ("database_url", "fapshi_api_user", "fapshi_api_key", "fapshi_webhook_secret",
                     "fathom_api_key", "fathom_webhook_secret"):
            if not getattr(self, name) and name.upper() not in self.obtained_later:
                missing.append(name.upper() + HOW_TO_OBTAIN.get(name, ""))
        if not (self.supabase_jwt_secret or self.supabase_jwks_url):
            missing.append("SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL")
        if not self.google_configured:
            missing.append(
                "GOOGLE_SERVICE_ACCOUNT_FILE + GOOGLE_DELEGATED_USER, or GOOGLE_OAUTH_CLIENT_ID"
                " + GOOGLE_OAUTH_CLIENT_SECRET + GOOGLE_OAUTH_REFRESH_TOKEN"
            )
        return missing

    @property
    def google_configured(self) -> bool:
        service_account = bool(self.google_service_account_file and self.google_delegated_user)
        oauth = bool(
            self.google_oauth_client_id
            and self.google_oauth_client_secret
            and self.google_oauth_refresh_token
        )
        return service_account or oauth

    @property
    def is_sandbox(self) -> bool:
        return self.prepskul_env is Env.SANDBOX

    @property
    def fathom_secrets(self) -> list[str]:
        """Secrets accepted on the Fathom webhook, newest last. The sandbox without one uses
        a fixed, public secret that only the fake signs with."""
        secrets = (self.fathom_webhook_secret or "").split()
        return secrets or ([SANDBOX_FATHOM_SECRET] if self.is_sandbox else [])

    def fakes_needed(self) -> list[str]:
        """The providers this sandbox replaces by their fakes (said loudly in the log): those
        with neither a base URL nor credentials (see `runtime.provider_urls`). Production
        never does."""
        if not self.is_sandbox:
            return []
        fakes = []
        if not (self.fapshi_base_url or (self.fapshi_api_user and self.fapshi_api_key)):
            fakes.append("fapshi")
        if not (self.google_calendar_base_url or self.google_configured):
            fakes.append("google_calendar")
        if not (self.fathom_base_url or self.fathom_api_key):
            fakes.append("fathom")
        return fakes


class SetupSettings(Settings):
    """For the commands an operator runs while setting up (`doctor`, `fathom webhook …`):
    FATHOM_WEBHOOK_SECRET may be missing, because `prepskul fathom webhook register` is how
    the operator obtains it. `serve` and `worker` never use these."""

    obtained_later: ClassVar[frozenset[str]] = frozenset({"FATHOM_WEBHOOK_SECRET"})


class DatabaseSettings(Settings):
    """For `migrate`, the first step of a deploy (docs/deploy.md): it touches only the
    database, so production asks for DATABASE_URL alone, before any provider is set up."""

    def missing_for_production(self) -> list[str]:
        return [] if self.database_url else ["DATABASE_URL"]

    def _production_problems(self) -> list[str]:
        return []


def load_settings(*, setup: bool = False, database_only: bool = False,
                  **overrides: object) -> Settings:
    """Settings from the environment (and `.env`), or a `ConfigError` naming what is wrong.
    `setup`: for the setup commands, which may run before every secret exists;
    `database_only`: for `migrate`, which needs nothing else."""
    kind = DatabaseSettings if database_only else SetupSettings if setup else Settings
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]).upper()
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{where}: {message}" if where else message)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
