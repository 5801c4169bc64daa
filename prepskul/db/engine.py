"""Engine and session factory. One place decides how we talk to Postgres."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def asyncpg_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and speak asyncpg."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    """The same URL for asyncpg itself (LISTEN connections), without SQLAlchemy's dialect."""
    return asyncpg_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


def connect_args(pool_mode: str) -> dict[str, Any]:
    """`asyncpg.connect`'s arguments for every connection we open, pooled or not. A
    transaction pooler hands each transaction to any server connection, so prepared
    statements must not be cached there (asyncpg then uses unnamed ones)."""
    args: dict[str, Any] = {"server_settings": {"application_name": "prepskul"}}
    if pool_mode == "transaction":
        args["statement_cache_size"] = 0
    return args


def make_engine(url: str, *, pool_size: int = 10, pool_mode: str = "direct") -> AsyncEngine:
    args = connect_args(pool_mode)
    if pool_mode == "transaction":
        # SQLAlchemy's dialect prepares statements by name itself: names must never collide
        # across the server connections the pooler hands out.
        args["prepared_statement_name_func"] = lambda: f"__ps_{uuid.uuid4().hex}__"
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # An error's text must never carry a row's values (emails, transcripts) into a log.
        hide_parameters=True,
        connect_args=args,
    )
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


def _ping(dbapi_connection: Any, _record: object, _proxy: object) -> None:
    """Every connection is checked alive as it leaves the pool (Supabase's pooler drops idle
    ones, and a ping is cheaper than a failed request), in one round trip: SQLAlchemy's own
    `pool_pre_ping` for asyncpg takes three (BEGIN, a prepared `;`, ROLLBACK — a lone
    prepared statement would not survive a transaction pooler), where a simple-protocol
    `SELECT 1` is a single message any pooler passes whole. A dead connection is replaced,
    as with pre-ping."""
    try:
        dbapi_connection.run_async(lambda conn: conn.execute("SELECT 1"))
    except Exception as exc:  # any failure: this connection is not to be trusted
        raise DisconnectionError(f"liveness ping failed: {type(exc).__name__}") from exc


async def connect(url: str, *, pool_mode: str = "direct") -> asyncpg.Connection:
    """One connection of our own, outside the pool, for a hot path that runs one statement
    at a time (the webhook inbox's group commit)."""
    return await asyncpg.connect(plain_dsn(url), **connect_args(pool_mode))


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
