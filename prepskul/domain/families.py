"""Families: a parent's children as learners, and the invitation codes that link a child's
own account. Pure rules — what a child's details may be, what a code looks like, and whether
a code can still be used."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from prepskul.domain.errors import Conflict, Gone, InvalidInput

MAX_NAME = 120
MAX_SCHOOL = 120
# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: with guessing rate-limited per person, out of reach
MAX_CODE_INPUT = 32


def child_name(value: str | None) -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidInput("invalid_name", "Give the child's name.")
    if len(name) > MAX_NAME:
        raise InvalidInput("too_long", f"A name has at most {MAX_NAME} characters.")
    return name


def school_name(value: str | None) -> str | None:
    school = (value or "").strip()
    if len(school) > MAX_SCHOOL:
        raise InvalidInput("too_long", f"A school's name has at most {MAX_SCHOOL} characters.")
    return school or None


def new_code() -> str:
    """A fresh code, shown as two groups of five: `7KQ2M-XW9TB`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(value: str) -> str:
    """What a person typed, as stored: case, spaces and dashes ignored, and the letters
    Crockford's alphabet leaves out read as the digits they look like."""
    cleaned = value.upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(value) > MAX_CODE_INPUT or len(cleaned) != CODE_LENGTH or any(
            c not in ALPHABET for c in cleaned):
        raise InvalidInput("invalid_invitation_code",
                           f"An invitation code is {CODE_LENGTH} letters and digits, "
                           "like 7KQ2M-XW9TB.")
    return cleaned


def code_digest(code: str) -> str:
    """Only the code's digest is stored: a read of the table gives no usable code."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


@dataclass(frozen=True)
class CodeState:
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


def check_usable(code: CodeState, now: datetime) -> None:
    """Used first (the most useful thing to tell its holder), then revoked, then expired."""
    if code.used_at is not None:
        raise Conflict("invitation_used", "This invitation code has already been used.")
    if code.revoked_at is not None:
        raise Gone("invitation_revoked",
                   "This invitation was withdrawn by the parent. Ask them for a new code.")
    if now >= code.expires_at:
        raise Gone("invitation_expired",
                   "This invitation code has expired. Ask your parent for a new one.")
