"""The FastAPI application: routers, error mapping, request ids, and — in the sandbox — the
fake providers mounted under /sandbox so the one-process demo needs nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prepskul import __version__, logs
from prepskul.api import (
    admin,
    after_lesson,
    errors,
    events,
    notifications,
    ops,
    payments,
    people,
    recordings,
    sessions,
    webhooks,
)
from prepskul.api.auth import TokenVerifier
from prepskul.api.limits import BodyLimit, RejectionLimiter
from prepskul.runtime import SANDBOX_PREFIX, Runtime
from prepskul.services.inbox_writer import InboxWriter
from prepskul.services.live import Hub

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class RequestIdMiddleware:
    """Tags logs and the answer with `X-Request-ID` (the caller's, or a fresh one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = incoming or uuid.uuid4().hex[:16]
        token = logs.request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


def create_app(
    rt: Runtime, *, run_worker: bool = False, mount_fakes: bool | None = None
) -> FastAPI:
    """`run_worker` runs the job worker inside this process (the demo does)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        await app.state.hub.start()
        if run_worker:
            from prepskul.jobs.registry import build_worker

            tasks.append(asyncio.create_task(build_worker(rt).run(stop)))
        try:
            yield
        finally:
            await app.state.hub.stop()
            await app.state.inbox_writer.close()
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=5)

    app = FastAPI(
        title="PrepSkul Sessions",
        version=__version__,
        description="Booking, Fapshi payments, Google Meet links and Fathom notes for "
        "paid tutoring sessions.",
        lifespan=lifespan,
        # We export Prometheus metrics and JSON logs. FastAPI's built-in OpenTelemetry hooks
        # would look for a tracer, meter and logger provider on every request (5% of a
        # webhook's time) for providers we never configure.
        telemetry=NO_TELEMETRY,
    )
    app.state.runtime = rt
    app.state.verifier = TokenVerifier(rt.settings, rt.http)
    app.state.hub = Hub(rt)
    app.state.inbox_writer = InboxWriter(rt)
    app.state.webhook_rejections = RejectionLimiter()
    errors.install(app)
    # Webhooks first: routes are matched in order, and they are the hottest path.
    for router in (webhooks.router, ops.router, people.router, sessions.router,
                   payments.router, recordings.router, after_lesson.router, admin.router,
                   events.router, notifications.router):
        app.include_router(router)
    if mount_fakes if mount_fakes is not None else rt.settings.is_sandbox:
        from prepskul.api import sandbox
        from prepskul.sandbox.mount import mount_fakes as mount

        mount(app, rt, SANDBOX_PREFIX)
        app.include_router(sandbox.router)
    from fastapi.staticfiles import StaticFiles
    from starlette.responses import RedirectResponse

    from prepskul.web import pages

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(pages.STATIC)), name="static")

    @app.exception_handler(pages.SignInRequired)
    async def sign_in_first(_: object, __: pages.SignInRequired) -> RedirectResponse:
        return RedirectResponse("/signin", status_code=303)

    app.add_middleware(BodyLimit, default=rt.settings.max_api_body_bytes,
                       webhooks=rt.settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
