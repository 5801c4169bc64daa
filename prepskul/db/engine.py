"""Engine and session factory. One place decides how we talk to Postgres."""

from __future__ import annotations

from sqlalchemy.engine import make_url
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


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "prepskul"}},
    )


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
