"""Who takes part: roles, languages, time zones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prepskul.domain.errors import InvalidInput

DEFAULT_TIME_ZONE = "Africa/Douala"


class Role(StrEnum):
    STUDENT = "student"
    PARENT = "parent"
    TUTOR = "tutor"
    ADMIN = "admin"


class Language(StrEnum):
    FR = "fr"
    EN = "en"


def parse_role(value: object) -> Role | None:
    """Our product role from a claim value; None when it is absent or not one of ours."""
    if isinstance(value, str) and value in Role._value2member_map_:
        return Role(value)
    return None


def language(value: str) -> Language:
    try:
        return Language(value)
    except ValueError:
        raise InvalidInput("invalid_language", "Choose 'fr' (français) or 'en' (English)."
                           ) from None


def check_time_zone(name: str) -> str:
    """Refuse anything that is not an IANA zone name ("Africa/Douala"), since every time we
    show is converted with it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            "invalid_time_zone", f"'{name}' is not a time zone name such as 'Africa/Douala'."
        ) from exc
    return name


@dataclass(frozen=True)
class Identity:
    """Who a verified token says the caller is."""

    sub: uuid.UUID
    email: str | None
    phone: str | None
    role: Role | None
    name: str | None


def local_time_text(when: datetime, zone: str, language: str) -> str:
    """How we write a moment for a person, in their zone: "25/12/2026 14:30" in French,
    "2026-12-25 14:30" in English — pages and messages alike."""
    local = when.astimezone(ZoneInfo(zone))
    return local.strftime("%d/%m/%Y %H:%M" if language == Language.FR else "%Y-%m-%d %H:%M")
