"""The one moment a lesson's outcome becomes final.

`lesson_settled` is called exactly once per session, in the transaction that settles it —
the family confirms, the confirmation window passes in silence, or an operator decides
(audited by the caller). The guarded UPDATE in `services/outcomes.py` makes "once" hold even
when two confirmations race. Money hangs off this call: `completed` releases the tutor's
earnings; `tutor_no_show` and `student_no_show` apply the cancellation policy recorded on
the booking. Wire them here, one line each, so every path to a final outcome pays the same
way.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import TutoringSession
from prepskul.domain.outcome import Outcome, Settlement
from prepskul.runtime import Runtime
from prepskul.services import feed


async def lesson_settled(
    db: AsyncSession, rt: Runtime, session: TutoringSession, outcome: Outcome, *,
    how: Settlement, by: uuid.UUID | None,
) -> None:
    await feed.record_change(db, session, "lesson.settled", outcome=outcome.value, how=how,
                             by=str(by) if by else None)
