"""What every fake shares: controllable latency, failures on demand, and a control endpoint
(`POST {fake}/_control`) so a test in another process can steer it.

Failures are queued: `{"fail": [{"status": 503}, {"status": 429, "headers": {...}}]}` makes
the next two requests fail that way, then the fake behaves again. `{"garbage": 1}` answers
the next request with a body that is not JSON."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from prepskul.clock import Clock


@dataclass
class InjectedFailure:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeControls:
    clock: Clock
    latency: float = 0.0
    failures: deque[InjectedFailure] = field(default_factory=deque)
    garbage: int = 0
    requests: int = 0

    def fail_next(self, status: int, body: Any = None, times: int = 1, **headers: str) -> None:
        for _ in range(times):
            self.failures.append(InjectedFailure(status, body, headers))

    def reset(self) -> None:
        self.latency, self.garbage = 0.0, 0
        self.failures.clear()

    def apply(self, settings: dict[str, Any]) -> None:
        if settings.get("reset"):
            self.reset()
        if "latency" in settings:
            self.latency = float(settings["latency"])
        for failure in settings.get("fail", []):
            self.fail_next(int(failure["status"]), failure.get("body"),
                           **failure.get("headers", {}))
        self.garbage += int(settings.get("garbage", 0))


def fake_app(name: str, controls: FakeControls, default_error: Any) -> FastAPI:
    """A FastAPI app for one fake, with the shared controls installed."""
    app = FastAPI(title=f"fake {name}", openapi_url=None, docs_url=None, redoc_url=None)

    class Faults(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if request.url.path.endswith("/_control"):
                return await call_next(request)
            controls.requests += 1
            if controls.latency:
                await asyncio.sleep(controls.latency)
            if controls.failures:
                f = controls.failures.popleft()
                body = f.body if f.body is not None else default_error(f.status)
                return JSONResponse(body, status_code=f.status, headers=f.headers)
            if controls.garbage:
                controls.garbage -= 1
                return Response("<html>502 Bad Gateway</html>", status_code=200,
                                media_type="application/json")
            return await call_next(request)

    app.add_middleware(Faults)

    @app.post("/_control", include_in_schema=False)
    async def control(settings: dict[str, Any]) -> dict[str, Any]:
        controls.apply(settings)
        return {"latency": controls.latency, "queued_failures": len(controls.failures)}

    return app


@dataclass
class Outgoing:
    """Webhooks a fake sends in the background, as the real provider would, and a way for a
    test to wait until every one has been sent (or given up)."""

    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def send(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def flush(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
