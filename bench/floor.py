"""The floor for webhook ingest: the same server stack (uvicorn, FastAPI, asyncpg) with a
handler that only inserts the raw body — one autocommitted statement on a pooled connection,
the least durable work any correct handler must do (our inbox writer also needs only one
round trip per batch, so the floor gets the same lean path). Benchmark-only; never part of
the service."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import AsyncIterator

import asyncpg
from fastapi import FastAPI, Request, Response

from prepskul.app import NO_TELEMETRY
from prepskul.db.engine import connect_args, plain_dsn

pool: asyncpg.Pool | None = None


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(plain_dsn(os.environ["DATABASE_URL"]), min_size=10,
                                     max_size=20, **connect_args("direct"))
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, telemetry=NO_TELEMETRY)  # as `serve` has it
gc.freeze()  # as `serve` does, once its app is built


@app.post("/api/webhooks/{provider}")
async def floor(provider: str, request: Request) -> Response:
    body = await request.body()
    assert pool is not None
    await pool.execute("INSERT INTO bench_floor (provider, body) VALUES ($1, $2)", provider, body)
    return Response('{"received":true}', media_type="application/json")
