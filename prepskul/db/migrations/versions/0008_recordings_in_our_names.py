"""recordings in our names: transcript lines and invitees as the Fathom boundary parses them

Stored transcripts held Fathom's wire shape ({speaker: {display_name,
matched_calendar_invitee_email}, text, timestamp}); they now hold ours ({speaker,
speaker_email, text, timestamp}), as do invitees ({name, email}). Links that are not https
are dropped, as the boundary now drops them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 20:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
        UPDATE prepskul.recordings SET transcript = COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                'speaker', CASE jsonb_typeof(line->'speaker')
                               WHEN 'object' THEN line->'speaker'->>'display_name'
                               WHEN 'string' THEN line->>'speaker' END,
                'speaker_email', lower(line->'speaker'->>'matched_calendar_invitee_email'),
                'text', line->>'text', 'timestamp', line->>'timestamp') ORDER BY n)
              FROM jsonb_array_elements(transcript) WITH ORDINALITY AS t(line, n)
             WHERE jsonb_typeof(line) = 'object'), '[]'::jsonb)
         WHERE jsonb_typeof(transcript) = 'array'
    """)
    op.execute("""
        UPDATE prepskul.recordings SET invitees = COALESCE((
            SELECT jsonb_agg(jsonb_build_object('name', i->>'name',
                                                'email', lower(i->>'email')) ORDER BY n)
              FROM jsonb_array_elements(invitees) WITH ORDINALITY AS t(i, n)
             WHERE jsonb_typeof(i) = 'object'), '[]'::jsonb)
         WHERE jsonb_typeof(invitees) = 'array'
    """)
    for table, column in (("recordings", "share_url"), ("recordings", "url"),
                          ("recordings", "meeting_url"), ("action_items", "playback_url")):
        op.execute(f"UPDATE prepskul.{table} SET {column} = NULL "
                   f"WHERE {column} IS NOT NULL AND lower({column}) NOT LIKE 'https://%'")


def downgrade() -> None:
    op.execute("""
        UPDATE prepskul.recordings SET transcript = COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                'speaker', jsonb_build_object(
                    'display_name', line->>'speaker',
                    'matched_calendar_invitee_email', line->>'speaker_email'),
                'text', line->>'text', 'timestamp', line->>'timestamp') ORDER BY n)
              FROM jsonb_array_elements(transcript) WITH ORDINALITY AS t(line, n)), '[]'::jsonb)
         WHERE jsonb_typeof(transcript) = 'array'
    """)
