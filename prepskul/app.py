"""The composition root: builds the FastAPI application from its parts — the API's routers
and error mapping, the pages, the worker when it runs in-process, and, in the sandbox, the
fake providers mounted under /sandbox so the one-process demo needs nothing else. `api` and
`web` never import each other's wiring; this module (and `cli.py`) imports both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.responses import RedirectResponse

from prepskul import __version__
from prepskul.api import (
    admin,
    admin_money,
    after_lesson,
    contract,
    errors,
    events,
    families,
    money,
    notifications,
    ops,
    payments,
    people,
    plans,
    recordings,
    sessions,
    tutors,
    webhooks,
)
from prepskul.api.auth import TokenVerifier
from prepskul.api.headers import SecurityHeaders
from prepskul.api.limits import BodyLimit, RejectionLimiter
from prepskul.api.request_ids import RequestIdMiddleware
from prepskul.api.storable_text import RefuseUnstorableText
from prepskul.jobs.registry import build_worker
from prepskul.runtime import SANDBOX_PREFIX, Runtime
from prepskul.services.inbox_writer import InboxWriter
from prepskul.services.live import Hub
from prepskul.web import (
    account_pages,
    family_pages,
    money_pages,
    ops_pages,
    plan_pages,
    rendering,
    session_pages,
    tutor_pages,
)

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    rt: Runtime, *, run_worker: bool = False, mount_fakes: bool | None = None,
    webhook_fast_path: bool = True,
) -> FastAPI:
    """`run_worker` runs the job worker inside this process (the demo does).
    `webhook_fast_path=False` leaves the two webhooks to their FastAPI routes (the
    benchmark's `routed` stack prices the fast path with it)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        await app.state.hub.start()
        if run_worker:
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

    docs = rt.settings.api_docs if rt.settings.api_docs is not None else rt.settings.is_sandbox
    app = FastAPI(
        docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
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
    app.state.hub = Hub(rt, max_per_person=rt.settings.sse_max_streams_per_person)
    app.state.inbox_writer = InboxWriter(rt)
    app.state.webhook_rejections = RejectionLimiter()
    errors.install(app)
    contract.install(app)
    # Webhooks first: routes are matched in order, and they are the hottest path.
    for router in (webhooks.router, ops.router, people.router, families.router, tutors.router,
                   sessions.router, payments.router, plans.router, money.router,
                   recordings.router, after_lesson.router, admin.router, admin_money.router,
                   events.router, notifications.router):
        app.include_router(router)
    if mount_fakes if mount_fakes is not None else rt.settings.is_sandbox:
        # Imported here: a production process never loads the fakes.
        from prepskul.api import sandbox
        from prepskul.sandbox.mount import mount_fakes as mount

        mount(app, rt, SANDBOX_PREFIX)
        app.include_router(sandbox.router)
    app.include_router(tutor_pages.router)
    app.include_router(family_pages.router)
    app.include_router(money_pages.router)
    app.include_router(plan_pages.router)
    app.include_router(account_pages.router)
    app.include_router(session_pages.router)
    app.include_router(ops_pages.router)
    app.mount("/static", StaticFiles(directory=str(rendering.STATIC)), name="static")

    @app.exception_handler(rendering.SignInRequired)
    async def sign_in_first(_: object, __: rendering.SignInRequired) -> RedirectResponse:
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(rendering.PageRefused)
    async def refused(_: object, exc: rendering.PageRefused) -> RedirectResponse:
        return rendering.back(exc.url, exc.notice)

    # Innermost: an admitted caller's live stream skips only the routing (api/events.py);
    # a webhook, taken by its fast path just outside, never passes here.
    app.add_middleware(events.LiveStreams)
    if webhook_fast_path:  # innermost: inside the body limit, request id and headers
        app.add_middleware(webhooks.WebhookFastPath)
    app.add_middleware(RefuseUnstorableText,
                       exempt=("/api/webhooks/", f"{SANDBOX_PREFIX}/", "/static/"))
    app.add_middleware(BodyLimit, default=rt.settings.max_api_body_bytes,
                       webhooks=rt.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, docs_paths=("/docs", "/redoc"),
                       https=rt.settings.public_base_url.startswith("https://"))
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(events.KeepServerSend)  # outermost: the server's own send, for streams
    return app
