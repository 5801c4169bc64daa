"""Fathom's loose shapes parsed once into our names (no I/O)."""

import pytest

from prepskul.providers.fathom.models import (
    ValidationError,
    parse_action_items,
    parse_meeting,
    parse_summary,
    parse_transcript,
    readable,
)


def test_a_speaker_is_read_as_an_object_or_a_bare_name() -> None:
    lines = parse_transcript([
        {"speaker": {"display_name": "Jo", "matched_calendar_invitee_email": "JO@X.TEST"},
         "text": "Hi", "timestamp": "00:00:01"},
        {"speaker": "Sam", "text": "Hello"},
        {"speaker": None},
    ])
    assert [(line.speaker, line.speaker_email, line.text, line.timestamp) for line in lines] == [
        ("Jo", "jo@x.test", "Hi", "00:00:01"), ("Sam", None, "Hello", None),
        (None, None, None, None)]


def test_absent_and_null_fields_are_unknown_not_errors() -> None:
    meeting = parse_meeting({"recording_id": 7, "calendar_invitees": None,
                             "scheduled_start_time": "not a time", "title": None})
    assert (meeting.title, meeting.invitees, meeting.scheduled_start) == (None, [], None)
    assert (meeting.transcript, meeting.action_items, meeting.summary_markdown) == (
        None, None, None)  # absent: to be fetched
    assert parse_meeting({"recording_id": 7, "transcript": None}).transcript is None
    assert parse_transcript(None) == [] and parse_action_items(None) == []
    assert parse_summary(None) is None
    assert parse_summary({"markdown_formatted": "## S"}) == "## S"


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://fathom.video/x",
                                  "data:text/html,hi", "https://a b", 42])
def test_only_https_links_from_fathom_are_kept(link: object) -> None:
    meeting = parse_meeting({"recording_id": 1, "share_url": link, "url": link,
                             "meeting_url": link,
                             "action_items": [{"description": "d",
                                               "recording_playback_url": link}]})
    assert (meeting.share_url, meeting.url, meeting.meeting_url) == (None, None, None)
    assert meeting.action_items and meeting.action_items[0].playback_url is None
    kept = parse_meeting({"recording_id": 1, "share_url": "https://fathom.video/share/x"})
    assert kept.share_url == "https://fathom.video/share/x"


def test_text_postgres_cannot_store_is_stripped() -> None:
    meeting = parse_meeting({"recording_id": 1, "title": "Ma\u0000ths",
                             "transcript": [{"speaker": "A\ud800", "text": "x\u0000y"}]})
    assert meeting.title == "Maths"
    assert meeting.transcript and meeting.transcript[0].text == "xy"
    assert "\ud800" not in (meeting.transcript[0].speaker or "")


@pytest.mark.parametrize(("raw", "where"), [
    ({"recording_id": "12"}, "recording_id"),
    ({"title": "no id"}, "recording_id"),
    ({"recording_id": 1, "transcript": "words"}, "transcript"),
    ({"recording_id": 1, "calendar_invitees": [1]}, "calendar_invitees.0"),
    ([1, 2], "body"),
])
def test_a_shape_we_cannot_read_says_where(raw: object, where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_meeting(raw)
    assert where in readable(caught.value)
