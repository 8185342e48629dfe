"""Background tasks: work a request starts that outlives it (generation runners, assistant
answers, the writer of partial texts).

Each runs in a fresh context that keeps only the request id (for its log lines), so it holds
nothing of the request — in particular not the request's thread-sensitive executor, which
shuts down once the response is sent. Their synchronous work (Django's async ORM,
``sync_to_async``) goes to one thread of their own, :data:`DATABASE_THREAD`: one database
connection for all of a worker's background work, never queued behind a request's thread,
nor behind asgiref's process-wide single thread, which code outside any request (the test
client, ``async_to_sync`` in a command) also uses and may hold while it waits for a runner.

No request ever ends on that thread, so nothing there closes a connection the database has
dropped (a restart, a failover, ``pg_terminate_backend``): each unit of database work the
runners do goes through :func:`healing`, which throws a dead connection away and runs the
unit once more on a new one. A unit is one transaction or one idempotent statement, so
running it twice does no harm (each says why in its docstring).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import DEFAULT_DB_ALIAS, Error, connections

from studio.observability import task_context

logger = logging.getLogger(__name__)

DATABASE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background-db")


async def on_database_thread[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` with its thread-sensitive calls on :data:`DATABASE_THREAD`."""
    async with ThreadSensitiveContext(executor=DATABASE_THREAD):
        return await coro


def start[T](
    coro: Coroutine[Any, Any, T], *, name: str | None = None, keep_request_id: bool = True
) -> asyncio.Task[T]:
    """Start ``coro`` as a background task (see the module's docstring)."""
    context = task_context() if keep_request_id else contextvars.Context()
    return asyncio.create_task(on_database_thread(coro), name=name, context=context)


def close_connections() -> Future[None]:
    """Close the background thread's database connection (worker shutdown, test teardown).

    It lives for the worker's life: background work runs outside any request, so nothing
    else closes it."""
    return DATABASE_THREAD.submit(connections.close_all)


def healing[**P, T](unit: Callable[P, T], *, again: Callable[P, T] | None = None) -> Callable[P, T]:
    """``unit`` (sync database work), run once more on a new connection if the database
    dropped the one it had.

    Only a dead connection is healed: an error on a connection that still answers (a
    constraint, a lock timeout) is raised as it is, and so is the second failure. ``again``
    runs instead of ``unit`` the second time, for a unit whose first try may have written
    before the connection broke (it looks before it writes). Inside a caller's transaction
    nothing is retried: the transaction is the caller's to fail."""

    @functools.wraps(unit)
    def healed(*args: P.args, **kwargs: P.kwargs) -> T:
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.in_atomic_block:
            return unit(*args, **kwargs)
        raw = None
        try:
            connection.ensure_connection()
            raw = connection.connection  # the driver's connection the unit starts on
            return unit(*args, **kwargs)
        except Error:
            if not _was_lost(connection, raw):
                raise
            logger.warning("The database connection was lost; %s runs again", unit.__name__)
        return (again or unit)(*args, **kwargs)

    return healed


def aheal[**P, T](
    unit: Callable[P, T], *, again: Callable[P, T] | None = None
) -> Callable[P, Coroutine[Any, Any, T]]:
    """:func:`healing` for async code: ``await aheal(save)(...)`` (on the thread the caller's
    context gives, :data:`DATABASE_THREAD` for background work)."""
    return sync_to_async(healing(unit, again=again))


def _was_lost(connection: Any, raw: Any) -> bool:
    """Whether the unit's connection ``raw`` broke under it; a dead one is closed.

    A transaction that fails on a dead connection has Django drop it already (its rollback
    fails) and the next statement open another; a dead one that Django still holds goes back
    to the pool (PostgreSQL), which drops a broken connection, and the next query opens or
    borrows a live one (the pool checks it first: settings.py)."""
    now = connection.connection
    if now is not None and _answers(now):
        return now is not raw  # the same live connection: the error was the unit's own
    with contextlib.suppress(Error):  # it is gone either way
        connection.close()
    if connection.connection is not None:
        # An in-memory SQLite database (the tests') ignores close(), lest the data vanish
        # with the last connection; this handle is dead, so let go of it all the same.
        connection.connection = None
    return True


def _answers(raw: Any) -> bool:
    try:
        raw.execute("SELECT 1")
    except Exception:
        return False
    return True
