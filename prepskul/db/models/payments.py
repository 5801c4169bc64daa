from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.payments import OPEN_PAYMENT, PaymentStatus

# domain.payments.OPEN_PAYMENT spelt for SQL: the payments that can still be paid.
OPEN_PAYMENT_SQL = "status IN ({})".format(
    ",".join(f"'{s.value}'" for s in sorted(OPEN_PAYMENT, key=list(PaymentStatus).index))
)


class Payment(Base):
    """One Fapshi transaction. `status` is only ever what Fapshi's payment-status API said."""

    __tablename__ = "payments"
    __table_args__ = (
        # One open attempt per session: a second request gets the open one back.
        Index(
            "uq_payments_one_open_per_session",
            "session_id",
            unique=True,
            postgresql_where=text(OPEN_PAYMENT_SQL),
        ),
        # And one per plan invoice.
        Index(
            "uq_payments_one_open_per_invoice",
            "invoice_id",
            unique=True,
            postgresql_where=text(OPEN_PAYMENT_SQL),
        ),
        Index(
            "ix_payments_next_check", "next_check_at", postgresql_where=text("closed_at IS NULL")
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"))
    # Or a plan's invoice (then no session); neither: a transaction we never started.
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    trans_id: Mapped[str] = mapped_column(String(32), unique=True)
    method: Mapped[str] = mapped_column(String(16))  # link | direct | credit | unknown
    amount_xaf: Mapped[int] = mapped_column(Integer)
    status: Mapped[PaymentStatus] = mapped_column(enum_type(PaymentStatus, 16))
    link: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(16))
    medium: Mapped[str | None] = mapped_column(String(32))
    # Operators' attention: unknown_transaction | amount_mismatch | wrong_session | refund_owed
    flag: Mapped[str | None] = mapped_column(String(32), index=True)
    flag_detail: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
