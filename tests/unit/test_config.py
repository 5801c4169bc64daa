"""Settings are checked at start, and a bad one is named."""

import base64
from pathlib import Path

import pytest

from prepskul.config import ConfigError, load_settings
from tests.conftest import write_service_account_key
from tests.unit.conftest import production


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


def test_a_malformed_fathom_secret_is_refused_in_every_mode_with_the_form_expected(
        key_file: Path) -> None:
    """`x` used to start fine, then every delivery answered 500."""
    for settings in (production(key_file, fathom_webhook_secret="x"),
                     {"fathom_webhook_secret": "x"}):
        with pytest.raises(ConfigError) as refused:
            load_settings(**settings)
        assert "FATHOM_WEBHOOK_SECRET: entry 1" in str(refused.value)
        assert "`whsec_` followed by base64 of at least 24 bytes" in str(refused.value)


@pytest.mark.parametrize("secret", [
    "whsec_" + base64.b64encode(b"s" * 16).decode(),  # too short a key
    "whsec_not base64!",
    base64.b64encode(b"s" * 32).decode(),  # the prefix left out
])
def test_the_second_of_two_fathom_secrets_is_checked_too(secret: str) -> None:
    good = "whsec_" + base64.b64encode(b"k" * 24).decode()
    with pytest.raises(ConfigError) as refused:
        load_settings(fathom_webhook_secret=f"{good} {secret}")
    assert "FATHOM_WEBHOOK_SECRET: entry 2" in str(refused.value)
    assert "entry 1" not in str(refused.value)


@pytest.mark.parametrize(("overrides", "named", "form"), [
    ({"fapshi_webhook_secret": "short-secret"}, "FAPSHI_WEBHOOK_SECRET", "at least 24"),
    ({"supabase_jwt_secret": "jwt-secret"}, "SUPABASE_JWT_SECRET", "at least 32"),
    ({"public_base_url": "http://sessions.prepskul.cm"}, "PUBLIC_BASE_URL", "https://"),
    ({"fapshi_base_url": "http://live.fapshi.com"}, "FAPSHI_BASE_URL", "https://"),
    ({"google_token_uri": "https://x.example.com/sandbox/google/token"}, "GOOGLE_TOKEN_URI",
     "sandbox"),
])
def test_production_refuses_weak_secrets_and_plain_urls_naming_the_setting_and_form(
        key_file: Path, overrides: dict[str, str], named: str, form: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(**production(key_file, **overrides))
    line = next(x for x in str(refused.value).splitlines() if named in x)
    assert form in line
    load_settings(**{"prepskul_env": "sandbox", **overrides})  # the sandbox's own rules


def test_every_problem_is_named_at_once(key_file: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(**production(key_file, fapshi_webhook_secret="short",
                                   supabase_jwt_secret="short", fathom_webhook_secret="x"))
    for named in ("FAPSHI_WEBHOOK_SECRET", "SUPABASE_JWT_SECRET", "FATHOM_WEBHOOK_SECRET"):
        assert named in str(refused.value)


def test_setup_commands_start_before_the_fathom_secret_exists(key_file: Path) -> None:
    """`prepskul fathom webhook register` is how the operator obtains the secret."""
    without = production(key_file, fathom_webhook_secret=None)
    with pytest.raises(ConfigError) as refused:
        load_settings(**without)
    assert "FATHOM_WEBHOOK_SECRET (`prepskul fathom webhook register` prints it)" in str(
        refused.value)
    assert load_settings(setup=True, **without).fathom_secrets == []
    with pytest.raises(ConfigError):  # anything else missing still stops a setup command
        load_settings(setup=True, **production(key_file, fathom_webhook_secret=None,
                                               fapshi_api_key=None))


@pytest.mark.parametrize(("token_uri", "form"), [
    ("https://sessions.prepskul.cm/sandbox/google/token", "sandbox"),
    ("http://oauth.example.com/token", "https://"),
])
@pytest.mark.parametrize("setting", ["google_service_account_file", "fcm_credentials_file"])
def test_a_key_files_token_endpoint_is_held_to_the_same_rules(
        tmp_path: Path, key_file: Path, setting: str, token_uri: str, form: str) -> None:
    bad_key = tmp_path / "bad-key.json"
    write_service_account_key(bad_key, token_uri=token_uri)
    with pytest.raises(ConfigError) as refused:
        load_settings(**production(key_file, **{setting: bad_key}))
    line = next(x for x in str(refused.value).splitlines() if setting.upper() in x)
    assert "token_uri" in line and form in line


def test_a_key_file_that_is_not_a_key_is_named(tmp_path: Path, key_file: Path) -> None:
    not_a_key = tmp_path / "notes.txt"
    not_a_key.write_text("my password is hunter2")
    with pytest.raises(ConfigError) as refused:
        load_settings(**production(key_file, fcm_credentials_file=not_a_key))
    assert "FCM_CREDENTIALS_FILE" in str(refused.value)
    assert "hunter2" not in str(refused.value)
