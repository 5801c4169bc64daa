"""Google Calendar API v3 with Meet conferences: client, credentials, event shapes."""
