"""Settings of a complete production, for the unit tests of configuration."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_service_account_key

OURS = "https://sessions.prepskul.cm"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key.json"
    write_service_account_key(path, token_uri="https://oauth2.googleapis.com/token")
    return path


def production(key_file: Path, **overrides: Any) -> dict[str, Any]:
    return {"prepskul_env": "production", "public_base_url": OURS,
            "database_url": "postgresql://u:p@db.example.com/prepskul",
            "fapshi_api_user": "user", "fapshi_api_key": "FAK_live_key",
            "fapshi_webhook_secret": "f" * 32, "fathom_api_key": "key",
            "fathom_webhook_secret": "whsec_" + "A" * 32,
            "supabase_jwt_secret": "j" * 40,
            "google_service_account_file": key_file, "google_delegated_user": "va@prepskul.cm",
            **overrides}


