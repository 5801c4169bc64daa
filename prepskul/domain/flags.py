"""Scan a transcript with the rules of `flag_rules`. Pure: lines in, flags out.

A flag names the rule, the speaker and an excerpt around the match; it is for operators
only (the service never shows it to the other party)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from prepskul.domain.flag_rules import RULES, Rule

EXCERPT_AROUND = 60


class FlagStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # a false alarm
    ACTIONED = "actioned"


@dataclass(frozen=True)
class Line:
    """One transcript line in our names (the provider's shape stops at its boundary)."""

    index: int
    speaker: str
    speaker_email: str | None
    text: str
    timestamp: str | None = None


@dataclass(frozen=True)
class Flag:
    rule: str
    why: str
    line: Line
    excerpt: str


def _fold(text: str) -> str:
    """Without accents, one character per character, so match positions map back onto the
    original text for the excerpt (the rules match case-insensitively)."""
    return "".join(unicodedata.normalize("NFD", ch)[0] for ch in text)


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    regex: re.Pattern[str]


def _compile(rules: Sequence[Rule]) -> tuple[_Compiled, ...]:
    return tuple(_Compiled(r, re.compile(r.pattern, re.IGNORECASE)) for r in rules)


COMPILED = _compile(RULES)


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT_AROUND), min(len(text), end + EXCERPT_AROUND)
    return ("…" if left else "") + text[left:right].strip() + ("…" if right < len(text) else "")


def scan(lines: Iterable[Line], rules: Sequence[Rule] | None = None) -> list[Flag]:
    """Every (line, rule) that matches, once each, in transcript order."""
    compiled = COMPILED if rules is None else _compile(rules)
    found = []
    for line in lines:
        folded = _fold(line.text)
        for c in compiled:
            match = c.regex.search(folded)
            if match:
                found.append(Flag(c.rule.code, c.rule.why, line,
                                  _excerpt(line.text, match.start(), match.end())))
    return found
