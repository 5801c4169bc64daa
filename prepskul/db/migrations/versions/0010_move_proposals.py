"""moves by agreement: proposals, and their held slot in time_holds

A pending proposal holds its slot in `time_holds` (purpose 'move', the session's id). The
exclusion constraint now lets rows of one session overlap each other — a lesson moved by
half an hour overlaps its own old slot until the move is accepted — while every other pair
still excludes (a row with no session, e.g. a future plan reservation, compares by its own
id, so it excludes everything).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 22:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exclusion(with_session: bool) -> str:
    same_session = ", (coalesce(session_id, id)) WITH <>" if with_session else ""
    return ("ALTER TABLE prepskul.time_holds ADD CONSTRAINT no_tutor_overlap EXCLUDE USING gist"
            f" (tutor_id WITH =, tstzrange(starts_at, ends_at) WITH &&{same_session})")


def upgrade() -> None:
    op.create_table('move_proposals',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=False),
    sa.Column('proposed_by_id', sa.UUID(), nullable=False),
    sa.Column('proposer_side', sa.Enum('tutor', 'learner', name='side', native_enum=False, length=16, create_constraint=False), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('pending', 'accepted', 'declined', 'expired', name='proposalstate', native_enum=False, length=16, create_constraint=False), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_by_id', sa.UUID(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['prepskul.profiles.id'], name=op.f('fk_move_proposals_answered_by_id_profiles')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['prepskul.profiles.id'], name=op.f('fk_move_proposals_proposed_by_id_profiles')),
    sa.ForeignKeyConstraint(['session_id'], ['prepskul.sessions.id'], name=op.f('fk_move_proposals_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_move_proposals')),
    schema='prepskul'
    )
    op.create_index(op.f('ix_move_proposals_session_id'), 'move_proposals', ['session_id'], unique=False, schema='prepskul')
    op.create_index('ix_move_proposals_expires_at', 'move_proposals', ['expires_at'], unique=False, schema='prepskul', postgresql_where=sa.text("state = 'pending'"))
    op.create_index('uq_move_proposals_pending', 'move_proposals', ['session_id'], unique=True, schema='prepskul', postgresql_where=sa.text("state = 'pending'"))
    op.create_index('uq_time_holds_move', 'time_holds', ['session_id'], unique=True, schema='prepskul', postgresql_where=sa.text("purpose = 'move'"))
    op.drop_constraint('no_tutor_overlap', 'time_holds', schema='prepskul')
    op.execute(_exclusion(with_session=True))


def downgrade() -> None:
    op.execute("DELETE FROM prepskul.time_holds WHERE purpose = 'move'")
    op.drop_constraint('no_tutor_overlap', 'time_holds', schema='prepskul')
    op.execute(_exclusion(with_session=False))
    op.drop_index('uq_time_holds_move', table_name='time_holds', schema='prepskul', postgresql_where=sa.text("purpose = 'move'"))
    op.drop_index('uq_move_proposals_pending', table_name='move_proposals', schema='prepskul', postgresql_where=sa.text("state = 'pending'"))
    op.drop_index('ix_move_proposals_expires_at', table_name='move_proposals', schema='prepskul', postgresql_where=sa.text("state = 'pending'"))
    op.drop_index(op.f('ix_move_proposals_session_id'), table_name='move_proposals', schema='prepskul')
    op.drop_table('move_proposals', schema='prepskul')
