"""`python -m bench.stacks STACK PORT`: our app, built as `prepskul serve` builds it (same
settings from the environment, uvloop, `gc.freeze()`), under another HTTP server — so the
ingest benchmark can price the server we chose against the others (BENCHMARKS.md §1).

- `bounded`: what `serve` runs — uvicorn + httptools with our head limits (http_server.py);
- `routed`: the same, but the two webhooks answered by their FastAPI routes rather than the
  raw ASGI fast path (`api.webhooks.WebhookFastPath`): what that fast path gains;
- `httptools`: uvicorn + httptools as it comes: no head limit (what `serve` ran before);
- `h11`: uvicorn + h11, whose `h11_max_incomplete_event_size` (16 KB) bounds the head;
- `hypercorn`: Hypercorn (h11, `h11_max_incomplete_size`), if installed;
- `granian`: Granian (Rust, ASGI), if installed.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import uvicorn

from prepskul import cli
from prepskul.app import create_app
from prepskul.http_server import server_config
from prepskul.runtime import Runtime

STACKS = ("bounded", "routed", "httptools", "h11", "hypercorn", "granian")


def available(stack: str) -> bool:
    import importlib.util

    module = {"hypercorn": "hypercorn", "granian": "granian"}.get(stack)
    return module is None or importlib.util.find_spec(module) is not None


def _runtime() -> Any:
    settings = cli._settings()
    return cli._runtime(settings)


async def _uvicorn(rt: Runtime, stack: str, port: int) -> None:
    app = create_app(rt, webhook_fast_path=stack != "routed")
    if stack in ("bounded", "routed"):
        config = server_config(app, rt.settings, host="127.0.0.1", port=port)
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, http=stack, log_config=None,
                                access_log=False, proxy_headers=True)
    gc.freeze()
    await uvicorn.Server(config).serve()


async def _hypercorn(rt: Runtime, port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = config.errorlog = None
    app = create_app(rt)
    gc.freeze()
    await serve(app, config)  # type: ignore[arg-type]


def granian_app() -> Any:
    """Granian imports its app by name in its own worker process: build it there."""
    runtime = _runtime().__enter__()
    return create_app(runtime)


def main(stack: str, port: int) -> None:
    if stack == "granian":
        from granian import Granian

        Granian("bench.stacks:granian_app", address="127.0.0.1", port=port, factory=True,
                interface="asgi", loop="uvloop", log_enabled=False).serve()  # type: ignore[arg-type]
        return
    with _runtime() as rt:
        work = _hypercorn(rt, port) if stack == "hypercorn" else _uvicorn(rt, stack, port)
        cli._run(work)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
