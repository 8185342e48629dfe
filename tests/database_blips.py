"""The database dropping connections under the studio, in tests: a restart, a failover or an
administrator's ``pg_terminate_backend`` (what issue 23's outage drill did).

On PostgreSQL the connection is really terminated by the server. SQLite has no server to
drop it: its handle is closed under Django instead, so the next query fails on it the same
way (an error from the driver, on a connection that no longer answers)."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
from asgiref.sync import SyncToAsync
from django.db import connections

from studio import background

# Set once a test has dropped connections; tests/conftest.py then heals the suite's threads.
dropped = False


def drop_background_connection() -> None:
    """The database drops the background thread's connection, which stays open and idle."""
    background.DATABASE_THREAD.submit(drop_this_threads_connection).result(timeout=10)


async def adrop_background_connection() -> None:
    """``drop_background_connection`` without blocking the event loop."""

    await asyncio.wrap_future(background.DATABASE_THREAD.submit(drop_this_threads_connection))


def drop_this_threads_connection() -> None:
    """The database drops the connection of the thread that calls this."""
    global dropped
    dropped = True
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        terminate(f"pid = {int(pid)}")
    else:
        connection.ensure_connection()
        connection.connection.close()


def terminate(which: str = "TRUE") -> int:
    """Terminate this test database's connections that match ``which`` (SQL on
    pg_stat_activity), from a connection of the test's own that is spared; how many. Waits
    until each is gone."""
    global dropped
    dropped = True
    settings = connections["default"].settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    ) as own:
        rows = own.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"  # noqa: S608
            f" WHERE datname = current_database() AND pid <> pg_backend_pid() AND {which}"
        ).fetchall()
    assert all(done for (done,) in rows), "a connection outlived pg_terminate_backend's wait"
    return len(rows)


def heal_threads() -> None:
    """After a test that dropped connections: the threads that outlive tests (asgiref's single
    thread, where the test client and async tests run the ORM, and the background thread)
    let go of theirs, so that the next test opens live ones rather than failing on the dead
    (the studio's own code heals its own; a test's direct queries do not)."""
    global dropped
    dropped = False
    for thread in (SyncToAsync.single_thread_executor, background.DATABASE_THREAD):
        thread.submit(_let_go).result(timeout=10)


def _let_go() -> None:
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(Exception):
            connection.close()
        connection.connection = None  # an in-memory SQLite database ignores close()
