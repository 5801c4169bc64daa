"""tutor time held in one table, with expiring holds; durable rate limits

The exclusion constraint moves from `sessions` to `time_holds`, which every claim on a
tutor's time writes a row into (sessions now; move proposals and plan reservations later).
A trigger keeps each session's row in step with the session. Unpaid and unapproved sessions
get a hold expiry; the ones already open get theirs counted from this migration.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 20:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# domain.lifecycle.HOLDS_SLOT, as it stands at this revision (a later change of the set is a
# later migration that replaces the function).
HOLDING = "('requested','awaiting_payment','paid','scheduled','completed')"

HOLDS_TIME_FUNCTION = f"""
CREATE FUNCTION prepskul.session_holds_time() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN {HOLDING} THEN
        INSERT INTO prepskul.time_holds
               (tutor_id, purpose, session_id, starts_at, ends_at, expires_at)
        VALUES (NEW.tutor_id, 'session', NEW.id, NEW.starts_at, NEW.ends_at,
                NEW.hold_expires_at)
        ON CONFLICT (session_id) WHERE purpose = 'session' DO UPDATE
           SET tutor_id = EXCLUDED.tutor_id, starts_at = EXCLUDED.starts_at,
               ends_at = EXCLUDED.ends_at, expires_at = EXCLUDED.expires_at;
    ELSE
        DELETE FROM prepskul.time_holds WHERE session_id = NEW.id AND purpose = 'session';
    END IF;
    RETURN NULL;
END $$
"""
HOLDS_TIME_TRIGGER = """
CREATE TRIGGER session_holds_time
AFTER INSERT OR UPDATE OF status, tutor_id, starts_at, ends_at, hold_expires_at
ON prepskul.sessions FOR EACH ROW EXECUTE FUNCTION prepskul.session_holds_time()
"""


def upgrade() -> None:
    op.add_column('sessions', sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True), schema='prepskul')
    op.create_table('rate_limits',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('tat', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits')),
    schema='prepskul'
    )
    op.drop_constraint('no_tutor_overlap', 'sessions', schema='prepskul')
    op.create_table('time_holds',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tutor_id', sa.UUID(), nullable=False),
    sa.Column('purpose', sa.Enum('session', name='holdpurpose', native_enum=False, length=16, create_constraint=False), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('tutor_id'), '='), (sa.text('tstzrange(starts_at, ends_at)'), '&&'), using='gist', name='no_tutor_overlap'),
    sa.ForeignKeyConstraint(['session_id'], ['prepskul.sessions.id'], name=op.f('fk_time_holds_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tutor_id'], ['prepskul.profiles.id'], name=op.f('fk_time_holds_tutor_id_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_holds')),
    schema='prepskul'
    )
    op.create_index('ix_time_holds_expires_at', 'time_holds', ['expires_at'], unique=False, schema='prepskul', postgresql_where=sa.text('expires_at IS NOT NULL'))
    op.create_index('uq_time_holds_session', 'time_holds', ['session_id'], unique=True, schema='prepskul', postgresql_where=sa.text("purpose = 'session'"))
    # Open bookings get their window from now: the squatters of today lapse soon after this.
    op.execute("UPDATE prepskul.sessions SET hold_expires_at = LEAST(starts_at,"
               " now() + interval '30 minutes') WHERE status = 'awaiting_payment'")
    op.execute("UPDATE prepskul.sessions SET hold_expires_at = LEAST(starts_at,"
               " now() + interval '48 hours') WHERE status = 'requested'")
    op.execute(f"""
        INSERT INTO prepskul.time_holds
               (tutor_id, purpose, session_id, starts_at, ends_at, expires_at)
        SELECT tutor_id, 'session', id, starts_at, ends_at, hold_expires_at
          FROM prepskul.sessions WHERE status IN {HOLDING}""")
    op.execute(HOLDS_TIME_FUNCTION)
    op.execute(HOLDS_TIME_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER session_holds_time ON prepskul.sessions")
    op.execute("DROP FUNCTION prepskul.session_holds_time()")
    op.drop_index('uq_time_holds_session', table_name='time_holds', schema='prepskul', postgresql_where=sa.text("purpose = 'session'"))
    op.drop_index('ix_time_holds_expires_at', table_name='time_holds', schema='prepskul', postgresql_where=sa.text('expires_at IS NOT NULL'))
    op.drop_table('time_holds', schema='prepskul')
    op.execute("ALTER TABLE prepskul.sessions ADD CONSTRAINT no_tutor_overlap EXCLUDE USING gist"
               " (tutor_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
               f" WHERE (status IN {HOLDING})")
    op.drop_table('rate_limits', schema='prepskul')
    op.drop_column('sessions', 'hold_expires_at', schema='prepskul')
