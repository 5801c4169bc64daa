"""Cameroonian mobile numbers as Fapshi wants them: nine digits starting with 6."""

from __future__ import annotations

import re

from prepskul.domain.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-().]")
_LOCAL = re.compile(r"^6\d{8}$")


def normalise_phone(raw: str) -> str:
    """'+237 6 70 00 00 00', '237670000000' and '670-000-000' all become '670000000'."""
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("00237"):
        digits = digits[5:]
    elif digits.startswith("237") and len(digits) == 12:
        digits = digits[3:]
    if not _LOCAL.fullmatch(digits):
        raise InvalidInput(
            "invalid_phone",
            f"'{raw}' is not a Cameroonian mobile number: use 9 digits starting with 6, "
            "for example 670 00 00 00.",
        )
    return digits
