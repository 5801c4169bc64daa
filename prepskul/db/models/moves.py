from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type
from prepskul.domain.moves import ProposalState, Side


class MoveProposal(Base):
    """A proposed new time for a session (`domain.moves`). While pending, its slot is held by
    a `time_holds` row of purpose `move` for the same session; answered or expired, the row
    is gone and this one stays as the record of what was asked and answered."""

    __tablename__ = "move_proposals"
    __table_args__ = (
        Index("uq_move_proposals_pending", "session_id", unique=True,
              postgresql_where=text("state = 'pending'")),
        Index("ix_move_proposals_expires_at", "expires_at",
              postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    proposer_side: Mapped[Side] = mapped_column(enum_type(Side, 16))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[ProposalState] = mapped_column(enum_type(ProposalState, 16))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("profiles.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
