"""The PostgreSQL pool's check (studio/database_pool.py): after the database dropped every
idle connection, a request gets a live one within its wait, not after one backoff pause per
dead connection."""

import pytest
from django.db import connection

from tests.database_blips import terminate

DEAD = 6  # idle connections the database drops: the pool alone needs 1+2+4+8+16 s for five


@pytest.mark.django_db(transaction=True)
def test_a_connection_after_the_database_dropped_every_idle_one_comes_within_the_wait():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server to drop an idle connection (tests/studio/test_sqlite.py)")
    # A worker's pool as it starts, then with DEAD idle connections.
    connection.close()
    connection.close_pool()
    pool = connection.pool
    pool.open()
    idle = [pool.getconn() for _ in range(DEAD + 1)]  # one becomes this test's own, below
    for pooled in idle:
        pool.putconn(pooled)
    with connection.cursor() as cursor:  # this test's own, which pytest-django's teardown uses
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    assert terminate(f"state = 'idle' AND pid <> {int(own)}") >= DEAD

    # Five seconds: enough for the first pause (1 s) and a new connection, not for the
    # pool's backoff through the dead ones (the default wait, 30 s, ran out the same way).
    pool.timeout, timeout = 5.0, pool.timeout
    try:
        live = pool.getconn()
        try:
            assert live.execute("SELECT 1").fetchone() == (1,)
        finally:
            pool.putconn(live)
    finally:
        pool.timeout = timeout
        connection.close()
        connection.close_pool()  # the next test's pool starts afresh
