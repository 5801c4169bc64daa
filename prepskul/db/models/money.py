"""Money: the ledger (accounts, transactions, entries), earnings, payouts and the audit of
operators' decisions about money. The ledger's invariants live in the database (see the
migration): entries are append-only, each transaction sums to zero when it commits, and a
balance below zero is refused by a CHECK on the account row the entry's trigger updates —
an UPDATE that also locks the row, so two concurrent withdrawals cannot both pass."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at, enum_type, updated_at
from prepskul.domain.ledger import AccountKind
from prepskul.domain.payouts import PayoutStatus, Purpose


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", name="uq_ledger_accounts_kind_owner",
                         postgresql_nulls_not_distinct=True),
        CheckConstraint("may_go_negative OR balance_xaf >= 0", name="never_below_zero"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind, 24))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    may_go_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sum of this account's entries, kept by the entries' trigger (never written by us).
    balance_xaf: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    __table_args__ = (Index("ix_ledger_transactions_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    memo: Mapped[str] = mapped_column(Text, default="")
    session_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_xaf <> 0", name="non_zero"),
        Index("ix_ledger_entries_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_xaf: Mapped[int] = mapped_column(BigInteger)


class Earning(Base):
    """A tutor's share of one session, pending until `release_at` unless held."""

    __tablename__ = "earnings"
    __table_args__ = (
        Index("ix_earnings_due", "release_at",
              postgresql_where=text("released_at IS NULL AND held_reason IS NULL")),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    tutor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"), index=True)
    amount_xaf: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    release_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    held_reason: Mapped[str | None] = mapped_column(Text)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class Payout(Base):
    """Money out to a phone. `id.hex` is the externalId Fapshi sees, so a retry finds the
    transaction an earlier attempt created instead of paying twice."""

    __tablename__ = "payouts"
    __table_args__ = (
        Index("ix_payouts_open", "next_check_at",
              postgresql_where=text("status IN ('sending','sent')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"), index=True)
    purpose: Mapped[Purpose] = mapped_column(enum_type(Purpose, 16))
    # The account the money came from, and goes back to if the payout fails.
    source_kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind, 24))
    source_owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    amount_xaf: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(16))
    status: Mapped[PayoutStatus] = mapped_column(enum_type(PayoutStatus, 16), index=True)
    trans_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    failure: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class OperatorAction(Base):
    """Who decided what about money, when and why. Append-only, like the ledger."""

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id"))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)  # payment:<id> | payout:<id> | session:<id>
    reason: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
