"""Background tasks: work a request starts that outlives it (generation runners, assistant
answers, the writer of partial texts).

Each runs in a fresh context that keeps only the request id (for its log lines), so it holds
nothing of the request — in particular not the request's thread-sensitive executor, which
shuts down once the response is sent. Their synchronous work (Django's async ORM,
``sync_to_async``) goes to one thread of their own, :data:`DATABASE_THREAD`: one database
connection for all of a worker's background work, never queued behind a request's thread,
nor behind asgiref's process-wide single thread, which code outside any request (the test
client, ``async_to_sync`` in a command) also uses and may hold while it waits for a runner.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.db import connections

from studio.observability import task_context

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
