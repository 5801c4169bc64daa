"""Credentials for the Calendar API: a service account with domain-wide delegation
(impersonating the organiser), or one account's OAuth refresh token; the sandbox's token
otherwise."""

from __future__ import annotations

from prepskul.config import Settings
from prepskul.providers.google_auth import GoogleAuthToken, StaticToken, TokenSource

SCOPES = ["https://www.googleapis.com/auth/calendar.events"]
SANDBOX_TOKEN = "sandbox-google-token"
PROVIDER = "google_calendar"


def credentials_from_settings(settings: Settings) -> TokenSource:
    if settings.google_service_account_file and settings.google_delegated_user:
        from google.oauth2 import service_account

        creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(settings.google_service_account_file), scopes=SCOPES,
            subject=settings.google_delegated_user,
        )
        return GoogleAuthToken(
            creds, f"service account acting as {settings.google_delegated_user}",
            provider=PROVIDER)
    if (settings.google_oauth_client_id and settings.google_oauth_client_secret
            and settings.google_oauth_refresh_token):
        from google.oauth2.credentials import Credentials

        creds = Credentials(  # type: ignore[no-untyped-call]
            None, refresh_token=settings.google_oauth_refresh_token,
            token_uri=settings.google_token_uri, client_id=settings.google_oauth_client_id,
            client_secret=settings.google_oauth_client_secret, scopes=SCOPES,
        )
        return GoogleAuthToken(creds, "OAuth refresh token", provider=PROVIDER)
    return StaticToken(SANDBOX_TOKEN, "sandbox token (fake Google Calendar)")
