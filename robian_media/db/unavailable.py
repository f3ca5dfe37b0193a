"""What "the database cannot be reached" looks like through asyncpg, psycopg and procrastinate.

Such failures are answered 503 with Retry-After (the client may simply retry), never 500, and
never after a long hang: pools give up on a connection within ``CONNECT_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncpg
import psycopg
import psycopg_pool

# connecting (asyncpg) or waiting for a pooled connection (psycopg): a request never hangs longer
CONNECT_TIMEOUT_S = 3.0
RETRY_AFTER_S = 5

_UNAVAILABLE = (
    ConnectionRefusedError,
    ConnectionAbortedError,
    TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08: cannot connect, connection lost
    asyncpg.CannotConnectNowError,  # starting up, shutting down
    asyncpg.exceptions.OperatorInterventionError,  # admin or crash shutdown
    asyncpg.TooManyConnectionsError,
    psycopg.OperationalError,
    psycopg_pool.PoolTimeout,
)


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps, e.g. procrastinate's ConnectorException) is an outage."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, _UNAVAILABLE):
            return True
        if isinstance(seen, asyncpg.InterfaceError) and "connection" in str(seen).lower():
            return True  # "connection is closed", "connection was closed in the middle of operation"
        seen = seen.__cause__ or seen.__context__
    return False
