"""Long responses give their request's thread back."""

import asyncio
import threading

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async

from studio.http import release_request_thread


async def test_a_stream_gives_its_request_thread_back_once_it_starts():
    """An SSE stream must not hold an idle OS thread per watcher for minutes; anything
    synchronous after that still runs (on a fresh thread)."""
    async with ThreadSensitiveContext():
        request_thread = await sync_to_async(threading.current_thread)()
        context = SyncToAsync.thread_sensitive_context.get()

        release_request_thread()
        await asyncio.to_thread(request_thread.join, timeout=5)

        assert not request_thread.is_alive()
        later = await sync_to_async(threading.current_thread)()
        assert later is not request_thread and later is not threading.main_thread()
    assert context not in SyncToAsync.context_to_thread_executor  # shut down at the end
