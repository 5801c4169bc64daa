"""Data migrations carry rows stored by earlier code into today's shapes."""

import asyncio
import json
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from prepskul.db import migrate
from prepskul.db.engine import plain_dsn
from tests.conftest import _with_database


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    """An empty database of its own, to walk the migrations from an old revision."""
    name = f"prepskul_migration_{uuid.uuid4().hex[:8]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(plain_dsn(database_url))
        await conn.execute(sql)
        await conn.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    yield _with_database(database_url, name)
    asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_recordings_stored_in_fathoms_shape_are_rewritten_in_our_names(
    own_database: str,
) -> None:
    url = own_database
    migrate.upgrade(url, "0007")
    transcript = [
        {"speaker": {"display_name": "Dr. Ngono",
                     "matched_calendar_invitee_email": "NGONO@tutors.prepskul.test"},
         "text": "Fractions", "timestamp": "00:05:32"},
        {"speaker": "Sam", "text": "Yes", "timestamp": "00:05:40"},
    ]
    invitees = [{"name": "Sam", "email": "SAM@x.test", "is_external": True}]

    async def store() -> uuid.UUID:
        conn = await asyncpg.connect(plain_dsn(url))
        rid = await conn.fetchval(
            "INSERT INTO prepskul.recordings (fathom_recording_id, match, candidates, share_url,"
            " transcript, invitees, attendance) VALUES (1, 'unmatched', '[]',"
            " 'javascript:alert(1)', $1::jsonb, $2::jsonb, '{}') RETURNING id",
            json.dumps(transcript), json.dumps(invitees))
        await conn.close()
        return rid  # type: ignore[no-any-return]

    async def read(rid: uuid.UUID) -> asyncpg.Record:
        conn = await asyncpg.connect(plain_dsn(url))
        row = await conn.fetchrow("SELECT transcript, invitees, share_url FROM"
                                  " prepskul.recordings WHERE id = $1", rid)
        await conn.close()
        return row

    rid = asyncio.run(store())
    migrate.upgrade(url, "0008")
    row = asyncio.run(read(rid))
    assert json.loads(row["transcript"]) == [
        {"speaker": "Dr. Ngono", "speaker_email": "ngono@tutors.prepskul.test",
         "text": "Fractions", "timestamp": "00:05:32"},
        {"speaker": "Sam", "speaker_email": None, "text": "Yes", "timestamp": "00:05:40"},
    ]
    assert json.loads(row["invitees"]) == [{"name": "Sam", "email": "sam@x.test"}]
    assert row["share_url"] is None
