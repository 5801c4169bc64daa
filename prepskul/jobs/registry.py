"""Which handler runs each job kind, and which jobs recur."""

from __future__ import annotations

from prepskul.jobs.notify import notify
from prepskul.jobs.worker import Handler, Schedule, Worker
from prepskul.runtime import Runtime


def handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = {"notify": notify}
    return table


def schedules(rt: Runtime) -> list[Schedule]:
    return []


def build_worker(rt: Runtime, **options: object) -> Worker:
    return Worker(rt, handlers(), schedules(rt), **options)  # type: ignore[arg-type]
