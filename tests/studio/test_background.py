"""Background tasks: a context of their own and a database thread of their own."""

import asyncio
import threading

from asgiref.sync import SyncToAsync, sync_to_async

from studio import background
from studio.observability import request_id_var


def _thread_name() -> str:
    return threading.current_thread().name


async def test_background_work_runs_on_its_own_thread_even_while_asgirefs_is_held():
    """The test client (and anything outside a request) runs sync code on asgiref's single
    thread; a request waiting there for a runner must not stop the runner's database calls."""
    held = threading.Event()
    busy = asyncio.wrap_future(SyncToAsync.single_thread_executor.submit(held.wait, 10))
    try:
        async with asyncio.timeout(5):
            name = await background.start(sync_to_async(_thread_name)())
    finally:
        held.set()
        await busy

    assert name.startswith("background-db")


async def test_background_work_keeps_the_request_id_and_nothing_else():
    token = request_id_var.set("abc123")
    try:
        seen = await background.start(_request_id())
        bare = await background.start(_request_id(), keep_request_id=False)
    finally:
        request_id_var.reset(token)

    assert (seen, bare) == ("abc123", "")


async def _request_id() -> str:
    return request_id_var.get()
