"""Optional Supabase integration: let the mobile app's Realtime subscriptions on session
rows (status, `meet_link`, …) keep working against our `prepskul.sessions` table.

`prepskul supabase enable-realtime` adds the table to the `supabase_realtime` publication and
turns on row-level security so an `authenticated` user receives only the sessions they take
part in (tutor, student, booker, or a linked parent). Our own service connects as the
tables' owner, which row-level security does not restrict. Idempotent; needs `auth.uid()`."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

STATEMENTS = (
    # A linked parent's children, readable inside a policy without granting the table.
    """CREATE OR REPLACE FUNCTION prepskul.children_of(parent uuid) RETURNS SETOF uuid
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = prepskul, pg_temp AS
       $$ SELECT student_id FROM prepskul.parent_links WHERE parent_id = parent
                                                    AND ended_at IS NULL $$""",
    "GRANT USAGE ON SCHEMA prepskul TO authenticated",
    "GRANT SELECT ON prepskul.sessions TO authenticated",
    "ALTER TABLE prepskul.sessions ENABLE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS sessions_for_participants ON prepskul.sessions",
    """CREATE POLICY sessions_for_participants ON prepskul.sessions FOR SELECT
       TO authenticated USING (
         auth.uid() IN (tutor_id, student_id, booked_by_id)
         OR student_id IN (SELECT prepskul.children_of(auth.uid())))""",
    """DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime')
            AND NOT EXISTS (SELECT 1 FROM pg_publication_tables
                            WHERE pubname = 'supabase_realtime' AND schemaname = 'prepskul'
                              AND tablename = 'sessions') THEN
           ALTER PUBLICATION supabase_realtime ADD TABLE prepskul.sessions;
         END IF;
       END $$""",
)


class NotSupabase(Exception):
    """The database has no `auth.uid()`: it is not a Supabase project."""


async def enable_realtime(engine: AsyncEngine) -> bool:
    """Returns whether the `supabase_realtime` publication now carries the table."""
    async with engine.begin() as conn:
        has_uid = await conn.scalar(text(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'auth' AND p.proname = 'uid'"))
        if not has_uid:
            raise NotSupabase("auth.uid() is missing: this is not a Supabase database")
        for statement in STATEMENTS:
            await conn.execute(text(statement))
        published = await conn.scalar(text(
            "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'supabase_realtime'"
            " AND schemaname = 'prepskul' AND tablename = 'sessions'"))
    return bool(published)
