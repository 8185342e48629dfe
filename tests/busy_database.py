"""A database too busy to wait for, in tests (studio/busy.py): every way to it taken.

On PostgreSQL every connection of the worker's pool is lent out; on SQLite another
connection holds the write lock, as another process in the middle of a write would. Only
the wait is shortened: ``WAIT`` seconds instead of DATABASE_POOL_TIMEOUT's 30 or SQLite's
busy timeout of 20. A request that asks for the database meanwhile runs out of time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.db.backends.signals import connection_created

from studio.sqlite.base import close_idle

WAIT = 0.3  # seconds a request waits for the database here


def reconnect() -> None:
    """This thread's connections closed, and SQLite's idle ones: the next query opens one.
    The test client keeps a thread's connection open across requests (the server closes
    it at each request's end)."""
    connections.close_all()
    if connection.vendor == "sqlite":
        close_idle()


def _short_wait(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.execute(f"PRAGMA busy_timeout = {int(WAIT * 1000)}")


@contextmanager
def database_full() -> Iterator[None]:
    """Every way to the database taken, for the moment (requests that connect meanwhile)."""
    if connection.vendor == "postgresql":
        pool = connection.pool
        held = []
        timeout, pool.timeout = pool.timeout, WAIT
        try:
            while (stats := pool.get_stats())["pool_size"] - stats["pool_available"] < (
                pool.max_size
            ):
                held.append(pool.getconn(timeout=10))
            yield
        finally:
            pool.timeout = timeout
            for raw in held:
                pool.putconn(raw)
        return

    writer = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    connection_created.connect(_short_wait)
    try:
        yield
    finally:
        connection_created.disconnect(_short_wait)
        writer.rollback()
        writer.close()
        close_idle()  # none that waits 0.3 s is handed on


@asynccontextmanager
async def adatabase_full() -> AsyncIterator[None]:
    """``database_full`` for the test client's requests: the thread they run their
    thread-sensitive work on (asgiref's one) connects anew, before and after."""
    await sync_to_async(reconnect)()
    try:
        with database_full():
            yield
    finally:
        await sync_to_async(reconnect)()
