"""The operations console: dead jobs and failed webhooks to replay, flagged payments,
unmatched recordings, lessons awaiting an outcome, transcript flags."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from prepskul.api.deps import DB, RuntimeDep
from prepskul.db.models import InboxState
from prepskul.domain.errors import DomainError, InvalidInput
from prepskul.domain.outcome import Outcome
from prepskul.queue.kinds import JobStatus
from prepskul.services import (
    confirmations,
    flags,
    operations,
    recordings,
    reviews,
)
from prepskul.web.rendering import Csrf, PageAdmin, back, render_live

router = APIRouter(include_in_schema=False)
Member = TypeVar("Member", bound=StrEnum)


@router.get("/ops")
async def ops_page(request: Request, db: DB, user: PageAdmin, provider: str = "",
                   state: str = "", job_status: str = "") -> Response:
    return await render_live(
        request, db, "ops.html", user, provider=provider, state=state, job_status=job_status,
        job_statuses=list(JobStatus), inbox_states=list(InboxState),
        webhooks=await operations.webhook_events(db, provider=provider or None,
                                                 state=_member(InboxState, state), limit=100),
        jobs=await operations.jobs(db, status=_member(JobStatus, job_status), limit=100),
        unassigned=await operations.unassigned_recordings(db),
        attention=await operations.sessions_needing_attention(db),
        flagged=await operations.flagged_payments(db),
        awaiting=await confirmations.awaiting_operator(db),
        transcript_flags=await flags.queue(db),
        recent_reviews=await reviews.recent(db))


@router.post("/ops/{what}/{item_id}")
async def ops_action(request: Request, what: str, item_id: str, db: DB, rt: RuntimeDep,
                     user: PageAdmin, _: Csrf,
                     session_id: Annotated[str, Form()] = "",
                     outcome: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                     resolution: Annotated[str, Form()] = "") -> Response:
    try:
        if what == "webhooks":
            await operations.replay_webhook(db, rt, int(item_id))
        elif what == "jobs":
            await operations.replay_job(db, rt, int(item_id))
        elif what == "dead-jobs":
            await operations.purge_job(db, int(item_id))
        elif what == "recordings":
            await recordings.assign(db, rt, uuid.UUID(item_id), uuid.UUID(session_id.strip()))
        elif what == "outcomes":
            await confirmations.decide_by_operator(db, rt, user, uuid.UUID(item_id),
                                                   Outcome(outcome), reason)
        elif what == "flags":
            await flags.resolve(db, rt, user, uuid.UUID(item_id), resolution, reason)
        elif what == "reviews":
            await reviews.hide(db, rt, user, uuid.UUID(item_id), reason)
        else:
            raise InvalidInput("unknown_action", "That is not something operators can do.")
    except DomainError as exc:
        return back("/ops", exc.message)
    except ValueError:
        return back("/ops", "That is not a valid id.")
    return back("/ops", "Done.")


def _member(enum: type[Member], value: str) -> Member | None:
    """A filter from the page's query string: an unknown value shows everything."""
    return enum(value) if value in enum._value2member_map_ else None
