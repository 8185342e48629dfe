"""Run an ASGI app under a real uvicorn server in a thread, for tests that need sockets.

pytest-django's live_server is a threaded WSGI server, under which Django collects an async
stream before sending it: a page that streams must be tested over ASGI.
"""

from __future__ import annotations

import asyncio
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil
import uvicorn
from django.conf import settings


class LiveServer:
    """A uvicorn server running in a thread of this process: its URL, and a way to run a
    coroutine on its event loop (to settle what a test left running there)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop: asyncio.AbstractEventLoop | None = None

    def call[T](self, function: Callable[[], Awaitable[T]], timeout: float = 15) -> T:
        """Run ``function()`` on the server's event loop and return its result."""
        if self.loop is None:
            raise RuntimeError("the server's event loop is not known yet")

        async def run() -> T:
            return await function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)


@contextmanager
def serve_asgi(
    app: Any, *, lifespan: str = "on", startup_timeout: float = 10
) -> Iterator[LiveServer]:
    """Serve ``app`` on a free loopback port; yields the running server, stops it afterwards."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    live = LiveServer(f"http://127.0.0.1:{port}")

    async def app_noting_its_loop(scope, receive, send) -> None:
        live.loop = asyncio.get_running_loop()
        await app(scope, receive, send)

    # The production loop (the image's and manage.py serve's: uvloop, accepting in batches).
    config = uvicorn.Config(
        app_noting_its_loop,
        log_level="warning",
        lifespan=lifespan,
        loop="studio.event_loop:new_event_loop",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:  # poll the flag with a deadline: no fixed sleep
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.005)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    if thread.is_alive():
        raise RuntimeError("uvicorn did not stop")


@contextmanager
def run_asgi(app: Any, *, lifespan: str = "on", startup_timeout: float = 10) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL and stops it afterwards."""
    with serve_asgi(app, lifespan=lifespan, startup_timeout=startup_timeout) as live:
        yield live.url


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServeProcess:
    """``manage.py serve`` in a process of its own, up: what it printed until it said so,
    what it prints from then on, and the children it started (simulator, worker)."""

    process: subprocess.Popen
    port: int
    seen: list[str]
    lines: queue.Queue[str]
    children: list[psutil.Process]


@contextmanager
def serve_command(script: str, env: dict[str, str]) -> Iterator[ServeProcess]:
    """Run ``script`` (Python that calls the serve command on the port in ``sys.argv[1]``)
    until the studio says it is ready; afterwards it and its children are gone (killed if
    they still run)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 — this interpreter, a fixed script
        [sys.executable, "-c", script, str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    children: list[psutil.Process] = []
    try:
        seen = [lines.get(timeout=60)]
        while "DeepSeek Studio is ready" not in seen[-1]:
            seen.append(lines.get(timeout=60))
        children = psutil.Process(process.pid).children(recursive=True)
        yield ServeProcess(process, port, seen, lines, children)
    finally:
        for child in (
            [*children, psutil.Process(process.pid)] if process.poll() is None else children
        ):
            if child.is_running():
                child.kill()
