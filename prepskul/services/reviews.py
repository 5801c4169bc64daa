"""Reviews: the learner's side rates a settled, held lesson once; the tutor replies once;
operators hide a review with a reason (audited). Hidden reviews count nowhere."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import LessonOutcome, Profile, Review
from prepskul.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from prepskul.domain.outcome import Outcome
from prepskul.domain.reviews import MIN_REVIEWS_SHOWN, check_rating, shown_rating
from prepskul.runtime import Runtime
from prepskul.services import audit, feed, notifications
from prepskul.services.access import learner_side, session_for


async def review(db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
                 rating: int, comment: str | None) -> Review:
    session = await session_for(db, actor, session_id, lock=True)
    if actor.id not in await learner_side(db, session):
        raise NotAllowed("learner_only", "Only the learner or their parent reviews a lesson.")
    settled = await db.get(LessonOutcome, session.id)
    if (settled is None or settled.settled_at is None
            or settled.outcome != Outcome.COMPLETED):
        raise Conflict("not_reviewable", "Only a lesson that took place and was confirmed "
                                         "can be reviewed.")
    created = (await db.execute(insert(Review).values(
        session_id=session.id, tutor_id=session.tutor_id, author_id=actor.id,
        rating=check_rating(rating), comment=(comment or "").strip() or None,
    ).on_conflict_do_nothing(index_elements=["session_id"]).returning(Review.id)))
    review_id = created.scalar_one_or_none()
    if review_id is None:
        raise Conflict("already_reviewed", "This lesson already has its review.")
    await feed.record_change(db, session, "review.created", review_id=str(review_id))
    await notifications.notify_people(db, rt, session, "review_received",
                                      to=[session.tutor_id])
    found = await db.get(Review, review_id)
    assert found is not None
    return found


async def reply(db: AsyncSession, rt: Runtime, actor: Profile, session_id: uuid.UUID,
                text: str) -> Review:
    session = await session_for(db, actor, session_id, lock=True)
    if actor.id != session.tutor_id:
        raise NotAllowed("tutor_only", "Only the session's tutor replies to its review.")
    if not text.strip():
        raise InvalidInput("reply_required", "Write your reply.")
    found = (await db.scalars(select(Review).where(Review.session_id == session.id))).first()
    if found is None:
        raise NotFound("no_review", "This lesson has no review.")
    replied = (await db.execute(update(Review).where(Review.id == found.id,
                                                     Review.reply.is_(None))
                                .values(reply=text.strip(), replied_at=rt.clock.now())
                                .returning(Review.id))).scalar_one_or_none()
    if replied is None:
        raise Conflict("already_replied", "You have already replied to this review.")
    await db.refresh(found)
    await feed.record_change(db, session, "review.replied", review_id=str(found.id))
    await notifications.notify_people(db, rt, session, "review_reply",
                                      to=await learner_side(db, session))
    return found


async def hide(db: AsyncSession, rt: Runtime, operator: Profile, review_id: uuid.UUID,
               reason: str) -> Review:
    found = await db.get(Review, review_id, with_for_update=True)
    if found is None:
        raise NotFound("review_not_found", "There is no review with that id.")
    if found.hidden_at is not None:
        raise Conflict("already_hidden", "This review is already hidden.")
    await audit.record(db, rt, operator, "hide_review", f"review:{found.id}", reason,
                       session_id=str(found.session_id))
    found.hidden_at, found.hidden_by_id = rt.clock.now(), operator.id
    found.hidden_reason = reason.strip()
    return found


async def for_session(db: AsyncSession, session_id: uuid.UUID) -> Review | None:
    return (await db.scalars(select(Review).where(Review.session_id == session_id))).first()


async def visible_for_tutor(db: AsyncSession, tutor_id: uuid.UUID, *, limit: int = 50
                            ) -> list[Review]:
    return list((await db.scalars(select(Review).where(
        Review.tutor_id == tutor_id, Review.hidden_at.is_(None))
        .order_by(Review.created_at.desc()).limit(limit))).all())


async def ratings(db: AsyncSession, tutor_ids: Iterable[uuid.UUID]
                  ) -> dict[uuid.UUID, tuple[float, int]]:
    """Each tutor's shown (average, count), for those with enough visible reviews."""
    rows = await db.execute(
        select(Review.tutor_id, func.sum(Review.rating), func.count())
        .where(Review.tutor_id.in_(list(tutor_ids)), Review.hidden_at.is_(None))
        .group_by(Review.tutor_id).having(func.count() >= MIN_REVIEWS_SHOWN))
    shown = {}
    for tutor_id, total, count in rows.all():
        rating = shown_rating(int(total), int(count))
        if rating:
            shown[tutor_id] = rating
    return shown


async def recent(db: AsyncSession, *, limit: int = 50) -> list[Review]:
    """The operators' view: the newest reviews, hidden ones included."""
    return list((await db.scalars(select(Review).order_by(Review.created_at.desc())
                                  .limit(limit))).all())
