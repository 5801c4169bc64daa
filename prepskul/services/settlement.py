"""The one moment a lesson's outcome becomes final.

`lesson_settled` is called exactly once per session, in the transaction that settles it —
the family confirms, the confirmation window passes in silence, or an operator decides
(audited by the caller). The guarded UPDATE in `services/confirmations.py` makes "once" hold even
when two confirmations race. Money hangs off this call: `completed` releases the tutor's
earnings; `tutor_no_show` and `student_no_show` apply the cancellation policy recorded on
the booking (`services/money.settle`, once per session), so every path to a final
outcome pays the same way. An operator's decision counts as the operator's for the policy.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import TutoringSession
from prepskul.domain import policy
from prepskul.domain.outcome import Outcome, Settlement
from prepskul.domain.policy import Party
from prepskul.runtime import Runtime
from prepskul.services import feed, money


async def lesson_settled(
    db: AsyncSession, rt: Runtime, session: TutoringSession, outcome: Outcome, *,
    how: Settlement, by: uuid.UUID | None,
) -> None:
    await money.settle(db, rt, session, policy.Outcome(outcome.value),
                       Party.OPERATOR if how is Settlement.OPERATOR else None)
    await feed.record_change(db, session, "lesson.settled", outcome=outcome.value, how=how,
                             by=str(by) if by else None)
