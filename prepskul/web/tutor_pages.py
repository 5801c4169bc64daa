"""Tutor pages: students find a tutor and pick one of their free times (days, then times);
a tutor fills in their profile and weekly hours; operators approve and suspend tutors."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from prepskul.api.deps import DB, RuntimeDep
from prepskul.api.tutor_schemas import AvailabilityIO
from prepskul.domain.booking import BOOKERS, MAX_MINUTES, MIN_MINUTES
from prepskul.domain.errors import DomainError, InvalidInput
from prepskul.domain.people import Role
from prepskul.domain.pricing import Kind, price_xaf
from prepskul.domain.tutors import (
    Level,
    TutorStatus,
    check_taking_bookings,
    missing_for_approval,
)
from prepskul.services import availability, booking, families, reviews, tutors
from prepskul.services.people import get_tutor
from prepskul.web.rendering import Csrf, PageAdmin, PageUser, back, render

router = APIRouter(include_in_schema=False)
LENGTHS = (30, 60, 90, 120)
PICKER_RANGE = timedelta(days=28)  # the days a student picks from (the horizon may cut it)


def _words(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@router.get("/tutors")
async def tutors_page(request: Request, db: DB, user: PageUser, subject: str = "",
                      level: str = "", language: str = "", max_rate: str = "",
                      cursor: str = "") -> Response:
    try:
        wanted = tutors.TutorFilter(subject or None, level or None, language or None, None,
                                    int(max_rate) if max_rate.strip() else None)
        found, next_cursor = await tutors.bookable(db, wanted, cursor=cursor or None, limit=10)
    except (DomainError, ValueError) as exc:
        message = exc.message if isinstance(exc, DomainError) else "Give a price in XAF."
        return back("/tutors", message)
    query = {"subject": subject, "level": level, "language": language, "max_rate": max_rate}
    return render(request, "tutors.html", user, tutors=found, next_cursor=next_cursor,
                  query=query, levels=[lv.value for lv in Level],
                  ratings=await reviews.ratings(db, (t.id for t in found)))


def _by_day(starts: list[datetime], zone: str) -> dict[date, list[datetime]]:
    days: dict[date, list[datetime]] = defaultdict(list)
    for start in starts:
        local = start.astimezone(ZoneInfo(zone))
        days[local.date()].append(local)
    return dict(days)


@router.get("/tutors/{tutor_id}")
async def pick_a_slot(request: Request, tutor_id: uuid.UUID, db: DB, rt: RuntimeDep,
                      user: PageUser, minutes: int = 60, kind: Kind = Kind.REGULAR,
                      day: str = "", child: str = "") -> Response:
    """Days with free times, then the chosen day's times; the price shows before booking —
    for a parent, for the child they picked, with the sibling discount that child gets in
    the chosen day's month."""
    try:
        tutor = await get_tutor(db, tutor_id)
        check_taking_bookings(tutor.tutor_status)
        minutes = minutes if MIN_MINUTES <= minutes <= MAX_MINUTES else 60
        price = price_xaf(kind, minutes, tutor.hourly_rate_xaf, booking.trial_prices(rt))
        found = await availability.slots(db, rt, tutor, None, rt.clock.now() + PICKER_RANGE,
                                         minutes)
    except DomainError as exc:
        return back("/tutors", exc.message)
    days = _by_day(found, user.time_zone)
    chosen = next((d for d in days if d.isoformat() == day), next(iter(days), None))
    times = days.get(chosen, []) if chosen else []
    children = await families.children(db, user) if user.role == Role.PARENT else []
    picked = next((c for c in children if str(c.id) == child), next(iter(children), None))
    full = price
    if picked is not None and times:
        price = await booking.family_price(db, rt, user, picked.id, times[0], kind, full)
    return render(request, "book.html", user, tutor=tutor, days=days, chosen=chosen,
                  times=times, minutes=minutes, kind=kind, price=price, discount=full - price,
                  lengths=LENGTHS, children=children, picked=picked,
                  can_book=user.role in BOOKERS)


@router.get("/tutor")
async def my_profile_page(request: Request, db: DB, rt: RuntimeDep, user: PageUser
                          ) -> Response:
    if user.role != Role.TUTOR:
        return back("/sessions", "This page is for tutors.")
    av = await availability.availability_of(db, rt, user)
    hours = AvailabilityIO.of(av, user.buffer_minutes, user.min_notice_minutes,
                              user.horizon_days).model_dump(mode="json")
    missing = missing_for_approval(await tutors.profile_facts(db, user))
    return render(request, "tutor.html", user, hours=hours, missing=missing,
                  levels=[lv.value for lv in Level])


@router.post("/tutor/profile")
async def save_profile(request: Request, db: DB, rt: RuntimeDep, user: PageUser, _: Csrf,
                       subjects: Annotated[str, Form()] = "",
                       levels: Annotated[list[str] | None, Form()] = None,
                       hourly_rate_xaf: Annotated[str, Form()] = "",
                       bio: Annotated[str, Form()] = "",
                       teaching_languages: Annotated[str, Form()] = "",
                       time_zone: Annotated[str, Form()] = "",
                       requires_approval: Annotated[str, Form()] = "") -> Response:
    changes: dict[str, Any] = {
        "subjects": _words(subjects), "levels": levels or [], "bio": bio,
        "teaching_languages": _words(teaching_languages),
        "requires_approval": requires_approval == "1"}
    if time_zone.strip():
        changes["time_zone"] = time_zone.strip()
    try:
        if hourly_rate_xaf.strip():
            changes["hourly_rate_xaf"] = int(hourly_rate_xaf)
        await tutors.update_profile(db, rt, user, changes)
    except DomainError as exc:
        return back("/tutor", exc.message)
    except ValueError:
        return back("/tutor", "Give the hourly rate as a whole number of XAF.")
    return back("/tutor", "Saved.")


@router.get("/ops/tutors")
async def ops_tutors_page(request: Request, db: DB, user: PageAdmin, status: str = "pending"
                          ) -> Response:
    wanted = TutorStatus(status) if status in TutorStatus._value2member_map_ else None
    found = await tutors.for_operators(db, wanted)
    missing = {t.id: missing_for_approval(await tutors.profile_facts(db, t)) for t in found}
    return render(request, "ops_tutors.html", user, tutors=found, missing=missing,
                  status=status, statuses=[s.value for s in TutorStatus])


@router.post("/ops/tutors/{tutor_id}/{action}")
async def ops_tutor_action(request: Request, tutor_id: uuid.UUID, action: str, db: DB,
                           rt: RuntimeDep, user: PageAdmin, _: Csrf,
                           reason: Annotated[str, Form()] = "") -> Response:
    try:
        if action == "approve":
            await tutors.approve(db, rt, user, tutor_id)
        elif action == "suspend":
            await tutors.suspend(db, rt, user, tutor_id, reason)
        else:
            raise InvalidInput("unknown_action", "That is not something operators can do.")
    except DomainError as exc:
        return back("/ops/tutors", exc.message)
    return back("/ops/tutors", "Done.")
