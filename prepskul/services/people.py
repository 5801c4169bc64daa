"""Profiles: created on a person's first request from their token's claims."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from prepskul.db.models import ParentLink, Profile
from prepskul.domain.errors import InvalidInput, NotFound
from prepskul.domain.people import Identity, Role, check_time_zone, language
from prepskul.domain.phone import normalise_phone


async def profile_for(db: AsyncSession, claims: Identity) -> Profile:
    """The caller's profile, created from the claims on first sight. A role in
    `app_metadata` (set server-side) wins over the stored one."""
    profile = await db.get(Profile, claims.sub)
    if profile is None:
        await db.execute(
            insert(Profile)
            .values(
                id=claims.sub,
                role=claims.role or Role.STUDENT,
                full_name=claims.name or (claims.email or "").split("@")[0],
                email=claims.email,
                phone=claims.phone,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        profile = await db.get(Profile, claims.sub)
        assert profile is not None
    elif claims.role and profile.role != claims.role:
        profile.role = claims.role
    return profile


REQUIRED = ("full_name", "time_zone", "language", "notify_email", "notify_push")


async def update_profile(db: AsyncSession, profile: Profile, changes: dict[str, Any]) -> Profile:
    """Change what was sent; `null` clears a phone or a push token, nothing else."""
    for key in REQUIRED:
        if key in changes and changes[key] is None:
            raise InvalidInput("value_required", f"{key} cannot be empty.")
    if "time_zone" in changes:
        changes["time_zone"] = check_time_zone(changes["time_zone"])
    if changes.get("phone"):
        changes["phone"] = normalise_phone(changes["phone"])
    if "language" in changes:
        changes["language"] = language(changes["language"])
    if "full_name" in changes and not str(changes["full_name"]).strip():
        raise InvalidInput("invalid_name", "Your name cannot be empty.")
    for key, value in changes.items():
        setattr(profile, key, value)
    return profile


async def get_tutor(db: AsyncSession, tutor_id: uuid.UUID, *, lock: bool = False) -> Profile:
    tutor = await db.get(Profile, tutor_id, with_for_update=lock)
    if tutor is None or tutor.role != Role.TUTOR:
        raise NotFound("tutor_not_found", "There is no tutor with that id.")
    return tutor


async def children_of(db: AsyncSession, parent_id: uuid.UUID) -> set[str]:
    rows = await db.scalars(select(ParentLink.student_id).where(
        ParentLink.parent_id == parent_id, ParentLink.active()))
    return {str(r) for r in rows}
