"""Sending one email with `aiosmtplib`, configured by `SMTP_URL`:
`smtp://user:password@host:587` (STARTTLS when offered) or `smtps://…:465` (implicit TLS)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import unquote, urlparse

import aiosmtplib

from prepskul.providers.errors import PermanentProviderError, RetryableProviderError

PROVIDER = "smtp"


class Mailer:
    def __init__(self, smtp_url: str, sender: str) -> None:
        url = urlparse(smtp_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587")
        self.host, self.sender = url.hostname, sender
        self.implicit_tls = url.scheme == "smtps"
        self.port = url.port or (465 if self.implicit_tls else 587)
        self.username = unquote(url.username) if url.username else None
        self.password = unquote(url.password) if url.password else None

    async def send(self, message: EmailMessage) -> None:
        message["From"] = self.sender
        try:
            await aiosmtplib.send(
                message, hostname=self.host, port=self.port, username=self.username,
                password=self.password, use_tls=self.implicit_tls, timeout=20,
            )
        except aiosmtplib.SMTPResponseException as exc:
            error = f"{exc.code} {exc.message}"
            if 400 <= exc.code < 500:  # SMTP's own "try again later"
                raise RetryableProviderError(PROVIDER, error, status=exc.code) from None
            raise PermanentProviderError(PROVIDER, error, status=exc.code) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryableProviderError(PROVIDER, f"{type(exc).__name__}: {exc}") from None

    async def login_check(self) -> None:
        """Connect and authenticate without sending anything (`prepskul doctor`)."""
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, use_tls=self.implicit_tls,
                                 timeout=10)
        try:
            await client.connect()
            if self.username and self.password:
                await client.login(self.username, self.password)
        finally:
            client.close()
