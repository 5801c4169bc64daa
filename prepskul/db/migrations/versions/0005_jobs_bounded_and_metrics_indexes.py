"""jobs bounded and metrics indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 20:45:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('outcome', sa.Text(), nullable=True), schema='prepskul')
    op.create_index('ix_jobs_status_finished', 'jobs', ['status', 'finished_at'], unique=False, schema='prepskul')
    op.create_index('ix_webhook_events_provider_state', 'webhook_events', ['provider', 'state'], unique=False, schema='prepskul')
    op.create_index('ix_sessions_attention', 'sessions', ['starts_at'], unique=False, schema='prepskul', postgresql_where=sa.text("meet_state = 'failed' OR recording_state = 'missing'"))


def downgrade() -> None:
    op.drop_index('ix_sessions_attention', table_name='sessions', schema='prepskul', postgresql_where=sa.text("meet_state = 'failed' OR recording_state = 'missing'"))
    op.drop_index('ix_webhook_events_provider_state', table_name='webhook_events', schema='prepskul')
    op.drop_index('ix_jobs_status_finished', table_name='jobs', schema='prepskul')
    op.drop_column('jobs', 'outcome', schema='prepskul')
