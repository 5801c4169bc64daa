"""Fapshi's wire shapes (docs.fapshi.com). Nothing outside this folder knows these names
(a transaction's status is the domain's `PaymentStatus`, whose values are Fapshi's words)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from prepskul.domain.payments import PaymentStatus


class TxType(StrEnum):
    COLLECTION = "Collection"
    PAYOUT = "Payout"


class Transaction(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    trans_id: str = Field(alias="transId")
    status: PaymentStatus
    amount: int
    trans_type: TxType | None = Field(None, alias="transType")
    reason: str | None = None
    medium: str | None = None
    external_id: str | None = Field(None, alias="externalId")
    user_id: str | None = Field(None, alias="userId")
    payer_name: str | None = Field(None, alias="payerName")
    financial_trans_id: str | None = Field(None, alias="financialTransId")
    date_initiated: str | None = Field(None, alias="dateInitiated")
    date_confirmed: str | None = Field(None, alias="dateConfirmed")

    @property
    def is_payout(self) -> bool:
        """Money we sent out (a payout service's transaction), not money collected."""
        return self.trans_type is TxType.PAYOUT


class Initiated(BaseModel):
    model_config = ConfigDict(extra="ignore")

    trans_id: str = Field(alias="transId")
    link: str | None = None
    message: str | None = None
