"""Which address each provider client calls, for every mode and setting: the fakes only in
the sandbox, each provider's real address by default in production, and never a sandbox
path in production whatever the settings."""

import itertools
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from prepskul.config import ConfigError, Settings, load_settings
from prepskul.runtime import build_runtime, provider_urls
from tests.unit.conftest import OURS, production

LIVE = "https://live.fapshi.com"
FAPSHI_SANDBOX = "https://sandbox.fapshi.com"
CALENDAR = "https://www.googleapis.com/calendar/v3"
FATHOM = "https://api.fathom.ai/external/v1"
FCM = "https://fcm.googleapis.com"
FAKES = f"{OURS}/sandbox"


def sandbox(**overrides: Any) -> dict[str, Any]:
    return {"prepskul_env": "sandbox", "public_base_url": OURS, **overrides}


CREDENTIALS = {"fapshi_api_user": "user", "fapshi_api_key": "FAK_TEST_key",
               "fathom_api_key": "key", "google_oauth_client_id": "id",
               "google_oauth_client_secret": "s", "google_oauth_refresh_token": "r"}
EXPLICIT = {"fapshi_base_url": "http://127.0.0.1:9001",
            "google_calendar_base_url": "http://127.0.0.1:9002/calendar/v3",
            "fathom_base_url": "http://127.0.0.1:9003/external/v1",
            "fcm_base_url": "http://127.0.0.1:9004"}
EXPECTED_EXPLICIT = tuple(EXPLICIT.values())

TABLE = [
    # mode, settings, (fapshi, calendar, fathom, push)
    ("production", {}, (LIVE, CALENDAR, FATHOM, None)),
    ("production", {"fapshi_api_key": "FAK_TEST_key"}, (FAPSHI_SANDBOX, CALENDAR, FATHOM, None)),
    ("production", {"fcm_credentials_file": "KEY"}, (LIVE, CALENDAR, FATHOM, FCM)),
    ("production", {**EXPLICIT, "fcm_credentials_file": "KEY"}, EXPECTED_EXPLICIT),
    ("sandbox", {}, (f"{FAKES}/fapshi", f"{FAKES}/google/calendar/v3",
                     f"{FAKES}/fathom/external/v1", f"{FAKES}/fcm")),
    ("sandbox", CREDENTIALS, (FAPSHI_SANDBOX, CALENDAR, FATHOM, f"{FAKES}/fcm")),
    ("sandbox", {**CREDENTIALS, "fapshi_api_key": "FAK_live"},
     (LIVE, CALENDAR, FATHOM, f"{FAKES}/fcm")),
    ("sandbox", {"fcm_credentials_file": "KEY"},
     (f"{FAKES}/fapshi", f"{FAKES}/google/calendar/v3", f"{FAKES}/fathom/external/v1", FCM)),
    ("sandbox", EXPLICIT, EXPECTED_EXPLICIT),
]


@pytest.mark.parametrize(("mode", "overrides", "expected"), TABLE,
                         ids=[f"{m}-{'+'.join(o) or 'defaults'}" for m, o, _ in TABLE])
async def test_each_client_calls_the_address_its_mode_and_settings_give(
        mode: str, overrides: dict[str, Any], expected: tuple[str | None, ...],
        key_file: Path) -> None:
    values = {k: key_file if v == "KEY" else v for k, v in overrides.items()}
    settings = load_settings(**(production(key_file, **values) if mode == "production"
                                else sandbox(**values)))
    rt = build_runtime(settings, database_url="postgresql://u@127.0.0.1:1/unused")
    try:
        called = (rt.fapshi.base_url, rt.calendar.base_url, rt.fathom.base_url,
                  rt.push.base_url if rt.push else None)
        assert called == expected
        assert settings.fakes_needed() == [] or mode == "sandbox"
    finally:
        await rt.close()


URL_CHOICES = {
    "fapshi_base_url": [None, "https://live.fapshi.com", "http://127.0.0.1:1",
                        f"{FAKES}/fapshi", "https://proxy.example.com/SandBox/fapshi"],
    "google_calendar_base_url": [None, CALENDAR, f"{FAKES}/google/calendar/v3",
                                 "http://calendar.example.com/calendar/v3"],
    "fathom_base_url": [None, FATHOM, f"{FAKES}/fathom/external/v1", "ftp://x/external/v1"],
    "fcm_base_url": [None, FCM, f"{FAKES}/fcm", "http://localhost:9/sandbox"],
    "fapshi_api_key": ["FAK_live", "FAK_TEST_key"],
}


def test_production_never_calls_a_sandbox_path_under_any_combination(key_file: Path) -> None:
    """Every combination either refuses to start, naming the setting, or calls no
    /sandbox/ path at all."""
    names = list(URL_CHOICES)
    started = refused = 0
    for values in itertools.product(*URL_CHOICES.values()):
        chosen = {k: v for k, v in zip(names, values, strict=True) if v is not None}
        try:
            settings = load_settings(**production(key_file, fcm_credentials_file=key_file,
                                                  **chosen))
        except ConfigError as exc:
            refused += 1
            assert any(f"{name.upper()}:" in str(exc) for name in chosen), exc
            continue
        started += 1
        urls = provider_urls(settings)
        for url in (urls.fapshi, urls.calendar, urls.fathom, urls.push):
            assert url is not None, chosen
            assert "sandbox" not in urlsplit(url).path.lower().split("/"), (chosen, url)
    assert started and refused


def test_a_sandbox_path_is_refused_in_production_naming_the_setting(key_file: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(**production(key_file, fathom_base_url=f"{FAKES}/fathom/external/v1"))
    assert "FATHOM_BASE_URL" in str(refused.value)
    assert "sandbox" in str(refused.value) and "unset it" in str(refused.value)


def test_the_settings_used_here_are_a_complete_production(key_file: Path) -> None:
    assert isinstance(load_settings(**production(key_file)), Settings)
