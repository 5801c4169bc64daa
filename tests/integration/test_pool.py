"""The connection pool hands out only live connections: one the database dropped while it
sat idle (a pooler's idle timeout, a restart) is replaced on the way out, unseen by the
caller."""

from typing import Any

import asyncpg
from sqlalchemy import text

from prepskul.db.engine import plain_dsn


async def test_a_connection_dropped_while_idle_in_the_pool_is_replaced_unseen(rt: Any) -> None:
    async with rt.engine.connect() as conn:
        dropped = await conn.scalar(text("SELECT pg_backend_pid()"))
    admin = await asyncpg.connect(plain_dsn(rt.database_url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", dropped)
    finally:
        await admin.close()
    async with rt.engine.connect() as conn:  # the same pooled connection was next in line
        assert await conn.scalar(text("SELECT pg_backend_pid()")) != dropped
