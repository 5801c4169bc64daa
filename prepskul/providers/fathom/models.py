"""Fathom's Meeting, invitee, transcript line and action item, parsed once into our names.

Fathom's documentation is loose in places (a transcript speaker is an object in the
examples and a string in older payloads; most fields may be absent or null), so parsing
is tolerant where it can be and strict only where we cannot go on: a meeting needs its
integer `recording_id`. Past this module nothing reads a Fathom field name. Text is made
storable (no NUL), and a link from Fathom is kept only when it is https — a `javascript:`
playback link must never be served back to a browser."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from prepskul.domain.text import storable_str

__all__ = ["ActionItem", "Invitee", "Meeting", "TranscriptLine", "ValidationError",
           "is_recording_id", "parse_action_items", "parse_meeting", "parse_summary",
           "parse_transcript", "readable"]

# Kept in a Postgres bigint; strict, because Python counts `true` as the integer 1.
RecordingId = Annotated[int, Field(strict=True, gt=0, lt=2**63)]
_RECORDING_ID: TypeAdapter[int] = TypeAdapter(RecordingId)


def is_recording_id(raw: Any) -> bool:
    """Whether a webhook's `recording_id` is one we can store (checked before accepting it)."""
    try:
        _RECORDING_ID.validate_python(raw)
    except ValidationError:
        return False
    return True


def _text(value: Any) -> str | None:
    """Text as we keep it: a string without NUL, or None for anything absent or empty."""
    if isinstance(value, str):
        return storable_str(value).strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if value is None:
        return None
    raise ValueError("expected text")


def _https(value: Any) -> str | None:
    """A provider's link, kept only when it is https (anything else is dropped, not an
    error: the notes are worth more than a link)."""
    text = _text(value) if isinstance(value, str) else None
    return text if text and text.lower().startswith("https://") and " " not in text else None


def _email(value: Any) -> str | None:
    text = _text(value) if isinstance(value, str) else None
    return text.lower() if text and "@" in text else None


def _moment(value: Any) -> datetime | None:
    """An ISO 8601 instant; anything unreadable counts as unknown."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


def _list(value: Any) -> Any:
    return [] if value is None else value


Text = Annotated[str | None, BeforeValidator(_text)]
Url = Annotated[str | None, BeforeValidator(_https)]
Email = Annotated[str | None, BeforeValidator(_email)]
Moment = Annotated[datetime | None, BeforeValidator(_moment)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Invitee(_Wire):
    name: Text = None
    email: Email = None


class TranscriptLine(_Wire):
    speaker: Text = None
    speaker_email: Email = None
    text: Text = None
    timestamp: Text = None  # HH:MM:SS from the start of the recording

    @field_validator("speaker", mode="before")
    @classmethod
    def _speaker_name(cls, value: Any) -> Any:
        # {"display_name": …, "matched_calendar_invitee_email": …} or a bare name.
        return value.get("display_name") if isinstance(value, dict) else value


def _line(raw: Any) -> Any:
    """Fathom nests the speaker's matched email in the speaker object; we flatten it."""
    if isinstance(raw, dict) and isinstance(raw.get("speaker"), dict):
        return {**raw, "speaker_email": raw["speaker"].get("matched_calendar_invitee_email")}
    return raw


Line = Annotated[TranscriptLine, BeforeValidator(_line)]
_LINES = TypeAdapter(list[Line])


class ActionItem(_Wire):
    description: Text = None
    assignee_name: Text = Field(None, validation_alias=AliasPath("assignee", "name"))
    assignee_email: Email = Field(None, validation_alias=AliasPath("assignee", "email"))
    timestamp: Text = Field(None, validation_alias="recording_timestamp")
    playback_url: Url = Field(None, validation_alias="recording_playback_url")


_ACTION_ITEMS = TypeAdapter(list[ActionItem])


class Meeting(_Wire):
    """A `new_meeting_content_ready` body, or an item of `GET /meetings`. The notes
    (`transcript`, `summary_markdown`, `action_items`) are None when the webhook was not
    configured to include them: fetch them then."""

    recording_id: RecordingId
    title: Text = Field(None, validation_alias=AliasChoices("title", "meeting_title"))
    meeting_url: Url = None  # the Google Meet link
    share_url: Url = None
    url: Url = None
    created_at: Moment = None
    scheduled_start: Moment = Field(None, validation_alias="scheduled_start_time")
    recording_start: Moment = Field(None, validation_alias="recording_start_time")
    recording_end: Moment = Field(None, validation_alias="recording_end_time")
    invitees: Annotated[list[Invitee], BeforeValidator(_list)] = Field(
        default_factory=list, validation_alias="calendar_invitees")
    transcript: list[Line] | None = None
    summary_markdown: Text = Field(
        None, validation_alias=AliasPath("default_summary", "markdown_formatted"))
    action_items: list[ActionItem] | None = None


def parse_meeting(raw: Any) -> Meeting:
    """Raises `ValidationError` for a shape we cannot read (`readable` says why)."""
    return Meeting.model_validate(raw)


def parse_transcript(raw: Any) -> list[TranscriptLine]:
    return _LINES.validate_python(_list(raw))


def parse_action_items(raw: Any) -> list[ActionItem]:
    return _ACTION_ITEMS.validate_python(_list(raw))


def parse_summary(raw: Any) -> str | None:
    """`{"template_name", "markdown_formatted"}` → the markdown."""
    return _text(raw.get("markdown_formatted")) if isinstance(raw, dict) else None


def readable(exc: ValidationError) -> str:
    """A sentence for an operator: where the shape was unexpected, and how."""
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:3]]
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "unexpected Fathom meeting shape: " + "; ".join(problems) + more
