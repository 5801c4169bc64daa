from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prepskul.db.base import Base, created_at


class FathomWebhook(Base):
    """Webhooks we registered with Fathom. Fathom's API creates and deletes webhooks but
    offers no list, so we remember ours (never their secrets)."""

    __tablename__ = "fathom_webhooks"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    includes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at()
