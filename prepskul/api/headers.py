"""Headers every answer carries so that a browser treats our pages as narrowly as it can:
no script but our own files (the pages have no inline script), never framed, never
sniffed, no full URL sent to other sites, HTTPS remembered, and — under https — every
cookie `Secure`, whoever set it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
# FastAPI's /docs and /redoc pages run an inline script and load Swagger UI from a CDN:
# they keep every other header, and only framing is forbidden.
DOCS_CSP = "frame-ancestors 'none'"
HSTS = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool, docs_paths: tuple[str, ...]) -> None:
        self.app, self.https, self.docs_paths = app, https, docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(self.docs_paths) else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", csp)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("referrer-policy", "same-origin")
                if self.https:
                    headers.setdefault("strict-transport-security", HSTS)
                    _secure_cookies(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_cookies(headers: MutableHeaders) -> None:
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for cookie in cookies:
        secure = any(part.strip().lower() == "secure" for part in cookie.split(";"))
        headers.append("set-cookie", cookie if secure else f"{cookie}; Secure")
