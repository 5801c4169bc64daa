"""families: learners without accounts, ended parent links, invitation codes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 23:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('profiles', sa.Column('level', sa.String(length=24), nullable=True), schema='prepskul')
    op.add_column('profiles', sa.Column('school', sa.Text(), nullable=True), schema='prepskul')
    op.add_column('profiles', sa.Column('managed_by_id', sa.UUID(), nullable=True), schema='prepskul')
    op.add_column('profiles', sa.Column('merged_into_id', sa.UUID(), nullable=True), schema='prepskul')
    op.create_foreign_key(op.f('fk_profiles_managed_by_id_profiles'), 'profiles', 'profiles', ['managed_by_id'], ['id'], source_schema='prepskul', referent_schema='prepskul', ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_profiles_merged_into_id_profiles'), 'profiles', 'profiles', ['merged_into_id'], ['id'], source_schema='prepskul', referent_schema='prepskul')
    op.add_column('parent_links', sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False), schema='prepskul')
    op.add_column('parent_links', sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True), schema='prepskul')
    op.create_table('invitations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.UUID(), nullable=False),
    sa.Column('learner_id', sa.UUID(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_id', sa.UUID(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['prepskul.profiles.id'], name=op.f('fk_invitations_learner_id_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['prepskul.profiles.id'], name=op.f('fk_invitations_parent_id_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by_id'], ['prepskul.profiles.id'], name=op.f('fk_invitations_used_by_id_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_invitations_code_digest')),
    schema='prepskul'
    )
    op.create_index(op.f('ix_invitations_parent_id'), 'invitations', ['parent_id'], unique=False, schema='prepskul')


def downgrade() -> None:
    op.drop_index(op.f('ix_invitations_parent_id'), table_name='invitations', schema='prepskul')
    op.drop_table('invitations', schema='prepskul')
    op.drop_column('parent_links', 'ended_at', schema='prepskul')
    op.drop_column('parent_links', 'created_at', schema='prepskul')
    op.drop_constraint(op.f('fk_profiles_merged_into_id_profiles'), 'profiles', schema='prepskul', type_='foreignkey')
    op.drop_constraint(op.f('fk_profiles_managed_by_id_profiles'), 'profiles', schema='prepskul', type_='foreignkey')
    op.drop_column('profiles', 'merged_into_id', schema='prepskul')
    op.drop_column('profiles', 'managed_by_id', schema='prepskul')
    op.drop_column('profiles', 'school', schema='prepskul')
    op.drop_column('profiles', 'level', schema='prepskul')
