"""Embedded PostgreSQL (the pgserver wheel) for the zero-configuration default."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


@asynccontextmanager
async def embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Start (or join) the embedded server under ``data_dir/pg`` and yield its DSN.

    pgserver blocks while it runs initdb/pg_ctl, so it runs in a thread. As root it creates a
    ``pgserver`` system user and chowns the data directory: postgres refuses to run as root.
    """
    with warnings.catch_warnings():
        # platformdirs (imported by pgserver) warns when XDG_RUNTIME_DIR is unset, as on servers
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver  # imported late: it is only needed on embedded defaults

    pgdata = data_dir / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    starting = loop.run_in_executor(None, pgserver.get_server, pgdata, "stop")
    try:
        server = await asyncio.shield(starting)
    except asyncio.CancelledError:
        # stopped during start-up (Ctrl-C): the thread starts PostgreSQL anyway; stop it as well
        server = await starting
        await loop.run_in_executor(None, server.cleanup)
        raise
    try:
        yield server.get_uri()
    finally:
        await loop.run_in_executor(None, server.cleanup)
