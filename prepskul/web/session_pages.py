"""The session pages: the list, booking, one session (pay, join, move, cancel, the lesson's
report, confirmation and review, homework). Each handler authorises, calls the same service
functions as the API, and renders; form posts redirect back with a sentence when a rule
refuses them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prepskul.api.deps import DB, RuntimeDep
from prepskul.db.models import Profile, TutoringSession
from prepskul.domain import lifecycle
from prepskul.domain.booking import BOOKERS
from prepskul.domain.errors import DomainError, InvalidInput
from prepskul.domain.lifecycle import DECIDABLE, LESSON_AHEAD, Event
from prepskul.domain.moves import needs_agreement
from prepskul.domain.outcome import FINAL, Outcome
from prepskul.domain.payments import PaymentMethod
from prepskul.domain.people import Role
from prepskul.domain.pricing import Kind
from prepskul.services import (
    booking,
    confirmations,
    money,
    moves,
    outcomes,
    payments,
    proposals,
    recordings,
    reviews,
)
from prepskul.services.access import acts_as_tutor, learner_side, may_pay, session_for
from prepskul.services.lessons import record_lesson
from prepskul.web.rendering import Csrf, PageUser, back, render_live

router = APIRouter(include_in_schema=False)


@router.get("/sessions")
async def sessions_page(request: Request, db: DB, user: PageUser) -> Response:
    rows, _ = await booking.list_sessions(db, user, limit=100)
    return await render_live(request, db, "sessions.html", user, sessions=rows,
                             can_book=user.role in BOOKERS)


def _local_input(value: str, zone: str) -> datetime:
    """A `datetime-local` field is wall-clock time in the person's own zone."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise InvalidInput("invalid_time", "Pick a date and a time.") from None


def _instant(value: str) -> datetime:
    """A start time offered by the slot picker: an instant with its offset."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput("invalid_time", "Pick one of the offered times.")
    return when


@router.post("/sessions")
async def book(request: Request, db: DB, rt: RuntimeDep, user: PageUser,
               _: Csrf, tutor_id: Annotated[uuid.UUID, Form()],
               subject: Annotated[str, Form()], starts_at: Annotated[str, Form()],
               minutes: Annotated[int, Form()], kind: Annotated[Kind, Form()],
               student_id: Annotated[str, Form()] = "") -> Response:
    picker = f"/tutors/{tutor_id}"
    try:
        session = await booking.book(db, rt, user, booking.BookingRequest(
            tutor_id=tutor_id, subject=subject, starts_at=_instant(starts_at),
            minutes=minutes, kind=kind, student_id=uuid.UUID(student_id) if student_id else None))
    except DomainError as exc:
        return back(picker, exc.message)
    return back(f"/sessions/{session.id}")


@router.get("/sessions/{session_id}")
async def session_page(request: Request, session_id: uuid.UUID, db: DB, rt: RuntimeDep,
                       user: PageUser) -> Response:
    try:
        session = await session_for(db, user, session_id)
    except DomainError as exc:
        return back("/sessions", exc.message)
    payment = await payments.latest_payment(db, session.id)
    try:
        notes, items = await recordings.recording_for(db, user, session.id)
    except DomainError:
        notes, items = None, []
    names = {p.id: p.full_name for p in [await db.get(Profile, i) for i in
                                         (session.tutor_id, session.student_id)] if p}
    try:  # what cancelling now would do with the money, stated before anyone confirms
        cancel_quote = await money.cancellation_quote(db, rt, user, session.id)
    except DomainError:
        cancel_quote = None
    proposal = await proposals.pending_for(db, session.id)
    side = await moves.side_of(db, user, session)
    _, outcome, report = await outcomes.outcome_for(db, user, session.id)
    opens = timedelta(minutes=rt.settings.join_opens_minutes)
    return await render_live(
        request, db, "session.html", user, s=session, payment=payment, notes=notes, items=items,
        names=names, cancel_quote=cancel_quote, join_opens=session.starts_at - opens,
        join_minutes=int(opens.total_seconds() // 60),
        after=_after_lesson(session, outcome, report, rt.clock.now(),
                            is_learner=user.id in await learner_side(db, session),
                            is_own_tutor=user.id == session.tutor_id),
        outcome=outcome, report=report, review=await reviews.for_session(db, session.id),
        proposal=proposal,
        can_answer=proposal is not None and side not in (None, proposal.proposer_side),
        **_session_actions(user, session))


def _session_actions(user: Profile, session: TutoringSession) -> dict[str, bool]:
    """What the page offers, from the lifecycle and the access rules (never a status list
    of its own)."""
    status = session.status
    return {
        "lesson_ahead": status in LESSON_AHEAD,
        "can_pay": lifecycle.can(status, Event.PAYMENT_CONFIRMED) and may_pay(user, session),
        "can_approve": lifecycle.can(status, Event.APPROVE) and acts_as_tutor(user, session),
        "can_change": lifecycle.can(status, Event.CANCEL),
    }


def _after_lesson(session: TutoringSession, outcome: Any, report: Any, now: datetime, *,
                  is_learner: bool, is_own_tutor: bool) -> dict[str, bool]:
    """Which after-the-lesson forms this person sees (the services decide again on post)."""
    started = session.status in DECIDABLE and now >= session.starts_at
    unsettled = outcome is not None and outcome.settled_at is None
    return {
        "report": started and is_own_tutor and report is None,
        "confirm": unsettled and is_learner and outcome.outcome in FINAL,
        "problem": unsettled and (is_learner or is_own_tutor) and now <= outcome.confirm_by,
        "review": (is_learner and outcome is not None and outcome.settled_at is not None
                   and outcome.outcome == Outcome.COMPLETED),
        "reply": is_own_tutor,
    }


def _proposal_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput("invalid_proposal", "That is not a proposal of this session.") from None


async def _act(session_id: uuid.UUID, work: Any) -> Response:
    """Run one action on a session; a refusal comes back as a sentence on the page."""
    try:
        target = await work()
    except DomainError as exc:
        return back(f"/sessions/{session_id}", exc.message)
    return RedirectResponse(target or f"/sessions/{session_id}", status_code=303)


@router.post("/sessions/{session_id}/pay")
async def pay(request: Request, session_id: uuid.UUID, db: DB, rt: RuntimeDep,
              user: PageUser, _: Csrf, method: Annotated[PaymentMethod, Form()],
              phone: Annotated[str, Form()] = "") -> Response:
    async def work() -> str | None:
        payment = await payments.start_payment(db, rt, user, session_id, method=method,
                                               phone=phone or None)
        return payment.link if method == "link" else None
    return await _act(session_id, work)


@router.post("/sessions/{session_id}/join")
async def join(request: Request, session_id: uuid.UUID, db: DB, rt: RuntimeDep,
               user: PageUser, _: Csrf) -> Response:
    """The Join button: recorded as evidence of attendance, then on to Meet."""
    return await _act(session_id, lambda: outcomes.join(db, rt, user, session_id))


@router.post("/sessions/{session_id}/after/{action}")
async def after_lesson(request: Request, session_id: uuid.UUID, action: str, db: DB,
                       rt: RuntimeDep, user: PageUser, _: Csrf,
                       topic: Annotated[str, Form()] = "",
                       learner_present: Annotated[str, Form()] = "",
                       notes: Annotated[str, Form()] = "", problem: Annotated[str, Form()] = "",
                       rating: Annotated[int, Form()] = 0, comment: Annotated[str, Form()] = "",
                       reply: Annotated[str, Form()] = "") -> Response:
    async def work() -> None:
        if action == "report":
            await outcomes.report(db, rt, user, session_id, outcomes.ReportIn(
                topic=topic, learner_present=learner_present == "yes", notes=notes))
        elif action == "confirm":
            await confirmations.confirm(db, rt, user, session_id)
        elif action == "problem":
            await confirmations.report_problem(db, rt, user, session_id, problem)
        elif action == "review":
            await reviews.review(db, rt, user, session_id, rating, comment)
        elif action == "reply":
            await reviews.reply(db, rt, user, session_id, reply)
        else:
            raise InvalidInput("unknown_action", "That is not something a session can do.")
    return await _act(session_id, work)


@router.post("/sessions/{session_id}/{action}")
async def session_action(request: Request, session_id: uuid.UUID, action: str, db: DB,
                         rt: RuntimeDep, user: PageUser, _: Csrf,
                         reason: Annotated[str, Form()] = "",
                         starts: Annotated[str, Form()] = "",
                         proposal: Annotated[str, Form()] = "") -> Response:
    async def work() -> str | None:
        if action == "approve":
            await booking.approve(db, rt, user, session_id)
        elif action == "decline":
            await booking.decline(db, rt, user, session_id, reason)
        elif action == "cancel":
            await booking.cancel(db, rt, user, session_id, reason)
        elif action == "reschedule":  # directly where allowed, else as a proposal
            when = _local_input(starts, user.time_zone)
            current = await session_for(db, user, session_id)
            if user.role == Role.ADMIN or not needs_agreement(current.status):
                await booking.reschedule(db, rt, user, session_id, when, None)
            else:
                await moves.propose(db, rt, user, session_id, when)
        elif action in ("accept_move", "decline_move"):
            answer = moves.accept if action == "accept_move" else moves.decline
            await answer(db, rt, user, session_id, _proposal_id(proposal))
        elif action == "lesson" and rt.settings.is_sandbox:
            await record_lesson(db, rt, request.app.state.sandbox.fathom, user, session_id)
        else:
            raise InvalidInput("unknown_action", "That is not something a session can do.")
        return None
    return await _act(session_id, work)


@router.post("/action-items/{item_id}")
async def tick(request: Request, item_id: uuid.UUID, db: DB, rt: RuntimeDep, user: PageUser,
               _: Csrf, session_id: Annotated[uuid.UUID, Form()],
               done: Annotated[str, Form()] = "") -> Response:
    async def work() -> None:
        await recordings.set_done(db, rt, user, item_id, done == "1")
    return await _act(session_id, work)
