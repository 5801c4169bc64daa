"""Commands run as a person runs them: a subprocess with environment variables."""

import asyncio
import os
import sys
from typing import Any

from alembic import command

from prepskul.db.migrate import alembic_config


async def prepskul(settings: Any, database_url: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": database_url,
           "PUBLIC_BASE_URL": settings.public_base_url,
           "PREPSKUL_DATA_DIR": str(settings.data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "prepskul.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_fathom_webhooks_are_registered_listed_and_deleted(
    settings, database_url, sandbox
) -> None:  # type: ignore[no-untyped-def]
    code, out = await prepskul(settings, database_url, "fathom", "webhook", "register")
    assert code == 0, out
    [hook] = sandbox.fathom.webhooks.values()
    assert hook.url == f"{settings.public_base_url}/api/webhooks/fathom"
    assert hook.includes["include_transcript"] and hook.includes["include_action_items"]
    assert hook.secret in out  # shown once, to be put in FATHOM_WEBHOOK_SECRET
    code, out = await prepskul(settings, database_url, "fathom", "webhook", "list")
    assert hook.id in out
    assert all(part in out for part in ("transcript", "summary", "action_items"))
    code, out = await prepskul(settings, database_url, "fathom", "webhook", "delete", hook.id)
    assert code == 0 and sandbox.fathom.webhooks == {}
    code, out = await prepskul(settings, database_url, "fathom", "webhook", "list")
    assert "no webhook registered" in out


async def test_a_bad_setting_stops_the_command_and_names_it(settings, database_url) -> None:  # type: ignore[no-untyped-def]
    env_backup = os.environ.get("PREPSKUL_ENV")
    os.environ["PREPSKUL_ENV"] = "production"
    try:
        code, out = await prepskul(settings, database_url, "worker")
    finally:
        if env_backup is None:
            del os.environ["PREPSKUL_ENV"]
        else:
            os.environ["PREPSKUL_ENV"] = env_backup
    assert code == 2
    assert "FAPSHI_API_KEY" in out and "SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL" in out


def test_the_models_and_the_migrations_describe_the_same_schema(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises if autogenerate sees a difference
