"""The PostgreSQL pool's check on each connection it hands out (``DATABASES`` ``pool``
``check``, studio/settings.py).

psycopg_pool's own check tests a connection with one round trip before a request gets it, so
a connection the database dropped while it sat idle is thrown away. After such a failure the
pool tries its next idle connection only after a pause: 1, 2, 4, 8, then 16 s (its backoff,
the same as for reconnecting). But a dropped connection seldom comes alone. A restart, a
failover or ``pg_terminate_backend`` drops them all. With five dead idle connections, a
request spent 31 s on them and ran out of its 30 s wait (``DATABASE_POOL_TIMEOUT``): a 503,
or, on a worker's database thread, a generation's end saved too late (the infrastructure
fault suite, 2026-12-06). So when one fails its check, every other idle connection is tested
at once (``ConnectionPool.check``): the dead ones go, the pool opens new ones, and the
request's next try, after the first pause, gets one.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool


def check_connection(conn: Any) -> None:
    """psycopg_pool's check, and on failure the pool's other idle connections checked too."""
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        # Set by the pool on a connection it hands out (its check runs after that).
        if (pool := getattr(conn, "_pool", None)) is not None:
            pool.check()
        raise
