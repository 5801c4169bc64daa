"""The Calendar event we send, built without I/O."""

from datetime import UTC, datetime

from prepskul.providers.google_calendar.models import conference_of, event_body, event_id_for

STARTS = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENDS = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _body(attendees: list[str]) -> dict:  # type: ignore[type-arg]
    return event_body(event_id="ps1", summary="Trial Session: Math", description="d",
                      starts_at=STARTS, ends_at=ENDS, time_zone="Africa/Douala",
                      attendees=attendees, va_email="va@prepskul.cm", request_id="r1")


def test_the_va_is_always_invited_exactly_once() -> None:
    for given in ([], ["t@x.cm", "s@x.cm"], ["VA@prepskul.cm", "t@x.cm", "va@prepskul.cm"]):
        emails = [a["email"].lower() for a in _body(given)["attendees"]]
        assert emails.count("va@prepskul.cm") == 1
        assert len(emails) == len(set(emails))


def test_times_are_wall_clock_in_the_sessions_zone() -> None:
    body = _body([])
    assert body["start"] == {"dateTime": "2026-03-02T10:00:00", "timeZone": "Africa/Douala"}
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {
        "type": "hangoutsMeet"}


def test_event_ids_are_base32hex_and_stable_per_session() -> None:
    sid = "0c9f3e2a-7b5d-4e1f-8a6b-2c3d4e5f6a7b"
    assert event_id_for(sid) == event_id_for(sid)
    assert set(event_id_for(sid)) <= set("abcdefghijklmnopqrstuv0123456789")


def test_a_conference_is_read_from_its_video_entry_point() -> None:
    pending = {"conferenceData": {"createRequest": {"status": {"statusCode": "pending"}}}}
    assert conference_of(pending).state == "pending"
    ready = {"conferenceData": {"createRequest": {"status": {"statusCode": "success"}},
                                "entryPoints": [{"entryPointType": "phone", "uri": "tel:+1"},
                                                {"entryPointType": "video",
                                                 "uri": "https://meet.google.com/abc-defg-hij"}]}}
    assert conference_of(ready).link == "https://meet.google.com/abc-defg-hij"
    assert conference_of({}).state == "none"
