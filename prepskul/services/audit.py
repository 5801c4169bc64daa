"""The operators' audit trail: every decision a person makes for others, with its reason,
written in the transaction of the decision itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import AuditEntry, Profile
from prepskul.domain.errors import InvalidInput


def required_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput("reason_required", "Say why: the decision is audited.")
    return reason.strip()


async def record(db: AsyncSession, actor: Profile, action: str, subject_type: str,
                 subject_id: object, reason: str, **data: Any) -> None:
    db.add(AuditEntry(actor_id=actor.id, action=action, subject_type=subject_type,
                      subject_id=str(subject_id), reason=required_reason(reason), data=data))
