"""Busy, not broken: a request that waited its turn for the database for too long.

Under a load one worker cannot keep up with, requests queue for a database connection: on
PostgreSQL for one of the pool's ``DATABASE_POOL_MAX_SIZE`` connections (up to
``DATABASE_POOL_TIMEOUT`` seconds, then psycopg_pool's ``PoolTimeout``), on SQLite for the
write lock (up to its busy timeout, then "database is locked"). Django turns either into an
uncaught ``OperationalError``, a bare "Server Error (500)" after a long wait. The studio's
error handlers (``studio.views.server_error``, the API's) ask ``database_busy`` and answer
503 with ``Retry-After`` instead, saying the studio is busy and that nothing typed is lost
(an htmx request keeps its form). On PostgreSQL the request waited for its first connection,
before any query; on SQLite the statement that waited wrote nothing (the Generate stores its
rows in one transaction). Each is counted in ``studio_database_busy_total``.
docs/operations.md ("When the database is busy") says what to tune.
"""

from __future__ import annotations

import os
import sqlite3

from prometheus_client import Counter
from psycopg_pool import PoolTimeout

RETRY_AFTER = 5  # seconds a refused client is asked to wait

# Registered on the studio's metrics registry by studio.audit.metrics (a layer above); see
# studio.degraded for why the multiprocess directory is made here.
if _MULTIPROC_DIR := os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""):
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)
BUSY = Counter(
    "studio_database_busy",
    "Requests answered 503 because they waited longer than the pool timeout (PostgreSQL) "
    "or the busy timeout (SQLite) for the database.",
    registry=None,
)


def database_busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it: Django wraps the driver's error) is a wait for
    the database that ran out of time, rather than a database that failed."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PoolTimeout):
            return True
        if isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def refused() -> None:
    """Count one request answered 503 because the database was busy."""
    BUSY.inc()
