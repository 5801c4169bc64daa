"""Alembic environment: async engine, our own schema, extensions created first."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text

import prepskul.db.models  # noqa: F401  (registers every table)
from prepskul.db.base import SCHEMA, Base
from prepskul.db.engine import make_engine

config = context.config


def run(conn: Connection) -> None:
    # btree_gist backs the no-double-booking exclusion constraint. Supabase installs
    # extensions in its `extensions` schema; IF NOT EXISTS keeps whichever is there.
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        version_table_schema=SCHEMA,
        # Compare only our schema: Supabase's `auth`, `public`, … are not ours.
        include_schemas=True,
        include_name=lambda name, type_, _: type_ != "schema" or name == SCHEMA,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    engine = make_engine(config.attributes["url"], pool_size=1)
    async with engine.begin() as conn:
        await conn.run_sync(run)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `prepskul migrate`")
asyncio.run(main())
