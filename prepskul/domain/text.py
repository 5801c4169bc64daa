"""Text PostgreSQL can store. It refuses the NUL character in `text` and `jsonb`, and a lone
UTF-16 surrogate (which JSON's `\\ud800` escape can spell) cannot even be encoded for the
wire. People's input holding either is refused at our edge; a provider's verified delivery
is kept with them stripped (see `api.storable_text` and `services.inbox`)."""

from __future__ import annotations

from typing import Any


def is_storable_str(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_storable(value: Any) -> bool:
    """Whether every string (key or value) inside a parsed JSON document can be stored."""
    if isinstance(value, str):
        return is_storable_str(value)
    if isinstance(value, dict):
        return all(is_storable(k) and is_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_storable(v) for v in value)
    return True


def storable_str(value: str) -> str:
    """The text without NUL characters; a lone surrogate becomes U+FFFD."""
    if is_storable_str(value):
        return value
    cleaned = value.replace("\x00", "")
    return cleaned.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def storable(value: Any) -> Any:
    """A parsed JSON document with `storable_str` applied to every key and string."""
    if isinstance(value, str):
        return storable_str(value)
    if isinstance(value, dict):
        return {storable_str(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
