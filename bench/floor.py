"""The floor for webhook ingest: the same server stack (uvicorn, FastAPI, SQLAlchemy +
asyncpg) with a handler that only inserts the raw body and commits — the least durable work
any correct handler must do. Benchmark-only; never part of the service."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from prepskul.db.engine import make_engine, make_session_factory

engine = make_engine(os.environ["DATABASE_URL"])
sessions = make_session_factory(engine)
app = FastAPI()


@app.post("/api/webhooks/{provider}")
async def floor(provider: str, request: Request) -> Response:
    body = await request.body()
    async with sessions.begin() as db:
        await db.execute(text("INSERT INTO bench_floor (provider, body) VALUES (:p, :b)"),
                         {"p": provider, "b": body})
    return Response('{"received":true}', media_type="application/json")
