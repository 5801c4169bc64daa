"""Running on a Supabase project: our migrations beside Supabase's own `auth` schema (which
they never touch), and the mobile app's Realtime subscriptions on session rows, each person
seeing only theirs. Against our Postgres with a stand-in `auth` schema."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from prepskul.db import migrate
from prepskul.db.engine import make_engine, plain_dsn
from prepskul.db.supabase import NotSupabase, enable_realtime
from prepskul.services.demo import demo_user
from tests.integration.test_cli import prepskul

STAND_IN = (
    "CREATE SCHEMA auth",
    "CREATE TABLE auth.users (id uuid PRIMARY KEY, email text)",
    """CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
       $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$""",
    """DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
           CREATE ROLE authenticated NOLOGIN; END IF; END $$""",
    "CREATE PUBLICATION supabase_realtime",
)
AUTH_OBJECTS = """SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname)
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'auth'"""


@pytest.fixture
async def supabase_db(database_url: str) -> AsyncIterator[str]:
    """A fresh database shaped like a Supabase project, then migrated by us."""
    name = f"prepskul_supa_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_dsn(database_url))
    await admin.execute(f"CREATE DATABASE {name}")
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(plain_dsn(url))
    for statement in STAND_IN:
        await conn.execute(statement)
    await conn.close()
    try:
        yield url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def _sessions_seen_as(conn: asyncpg.Connection, who: uuid.UUID) -> set[uuid.UUID]:
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE authenticated")
        await conn.execute("SELECT set_config('request.jwt.claim.sub', $1, true)", str(who))
        return {r["id"] for r in await conn.fetch("SELECT id FROM prepskul.sessions")}


async def test_migrations_leave_auth_alone_and_realtime_shows_each_person_their_rows(
    supabase_db: str,
) -> None:
    conn = await asyncpg.connect(plain_dsn(supabase_db))
    before = await conn.fetchval(AUTH_OBJECTS)
    await asyncio.to_thread(migrate.upgrade, supabase_db)  # Alembic runs its own loop
    assert await conn.fetchval(AUTH_OBJECTS) == before  # Supabase's schema untouched
    engine = make_engine(supabase_db, pool_size=1)
    try:
        assert await enable_realtime(engine) is True
        assert await enable_realtime(engine) is True  # idempotent
    finally:
        await engine.dispose()
    people = {k: demo_user(k).id for k in ("tutor", "tutor2", "student", "parent", "child")}
    for key, pid in people.items():
        await conn.execute("INSERT INTO prepskul.profiles (id, role, full_name, time_zone,"
                           " language, notify_email, notify_push, subjects,"
                           " requires_approval) VALUES ($1, $2, $3, 'Africa/Douala', 'fr',"
                           " true, true, '{}', false)", pid, demo_user(key).role.value, key)
    await conn.execute("INSERT INTO prepskul.parent_links VALUES ($1, $2)",
                       people["parent"], people["child"])
    start = datetime.now(UTC) + timedelta(days=2)
    ids = {}
    for n, (tutor, student) in enumerate((("tutor", "student"), ("tutor2", "child"))):
        ids[student] = await conn.fetchval(
            "INSERT INTO prepskul.sessions (kind, tutor_id, student_id, booked_by_id, subject,"
            " starts_at, ends_at, time_zone, status, price_xaf) VALUES ('regular', $1, $2, $2,"
            " 'Maths', $3, $4, 'Africa/Douala', 'scheduled', 5000) RETURNING id",
            people[tutor], people[student], start + timedelta(hours=n),
            start + timedelta(hours=n, minutes=30))
    assert await _sessions_seen_as(conn, people["student"]) == {ids["student"]}
    assert await _sessions_seen_as(conn, people["tutor"]) == {ids["student"]}
    assert await _sessions_seen_as(conn, people["parent"]) == {ids["child"]}
    assert await _sessions_seen_as(conn, uuid.uuid4()) == set()
    assert await conn.fetchval("SELECT count(*) FROM prepskul.sessions") == 2  # owner: all
    published = await conn.fetchval(
        "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'supabase_realtime'"
        " AND tablename = 'sessions'")
    assert published == 1
    await conn.close()


async def test_a_database_without_supabase_auth_is_refused_clearly(
    database_url: str, settings, sandbox
) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url, pool_size=1)
    try:
        with pytest.raises(NotSupabase, match=r"auth\.uid"):
            await enable_realtime(engine)
    finally:
        await engine.dispose()
    code, out = await prepskul(settings, database_url, "supabase", "enable-realtime")
    assert code == 2 and "not a Supabase database" in out
