"""Google Calendar API v3 with Meet conferences: client, credentials, event shapes."""

REAL_BASE_URL = "https://www.googleapis.com/calendar/v3"
