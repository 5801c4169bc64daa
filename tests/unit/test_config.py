"""Settings are checked at start, and a bad one is named."""

import pytest

from prepskul.config import ConfigError, load_settings


def test_nothing_configured_means_sandbox_with_every_fake() -> None:
    settings = load_settings()
    assert settings.is_sandbox
    assert settings.fakes_needed() == ["fapshi", "google_calendar", "fathom"]


def test_production_names_every_missing_setting() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(prepskul_env="production")
    message = str(refused.value)
    for name in ("DATABASE_URL", "FAPSHI_API_KEY", "FATHOM_WEBHOOK_SECRET",
                 "SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL", "GOOGLE_SERVICE_ACCOUNT_FILE"):
        assert name in message


@pytest.mark.parametrize(("overrides", "named"), [
    ({"public_base_url": "ftp://x"}, "PUBLIC_BASE_URL"),
    ({"fcm_credentials_file": "/nope/key.json"}, "FCM_CREDENTIALS_FILE"),
    ({"google_service_account_file": "/nope/sa.json"}, "GOOGLE_SERVICE_ACCOUNT_FILE"),
    ({"database_pool_mode": "transaction"}, "DATABASE_LISTEN_URL"),
    ({"prepskul_env": "staging"}, "PREPSKUL_ENV"),
    ({"reconcile_interval_seconds": "often"}, "RECONCILE_INTERVAL_SECONDS"),
])
def test_a_malformed_setting_is_named(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(**overrides)
    assert named in str(refused.value)
