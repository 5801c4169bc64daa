"""a session awaiting payment or approval always carries its hold's expiry

Without one its time would be held until someone cancelled it — the squatting this
revision's predecessor closed. The database refuses such a row, whatever code writes it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 21:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_check_constraint(
        op.f('ck_sessions_tentative_hold_expires'), 'sessions',
        "status NOT IN ('requested','awaiting_payment') OR hold_expires_at IS NOT NULL",
        schema='prepskul')


def downgrade() -> None:
    op.drop_constraint(op.f('ck_sessions_tentative_hold_expires'), 'sessions', schema='prepskul')
