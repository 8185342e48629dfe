"""studio.event_loop: uvloop's loop, whose TCP servers accept every waiting connection at once."""

from __future__ import annotations

import asyncio
import errno
import math
import socket
import time

import httpx
import pytest
import uvicorn
import uvloop

from studio import event_loop
from studio.event_loop import AcceptingServer, Loop, new_event_loop

WAITING = 40  # connections the kernel completed before the loop looks at its socket
BUSY_TURN = 0.02  # seconds each turn of a "loaded" loop spends on other work


class Counting(asyncio.Protocol):
    made = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        type(self).made += 1
        transport.write(b"hello")  # type: ignore[attr-defined]


def _listening() -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0), backlog=WAITING * 2)
    return listener


def _turns_to_accept(loop: asyncio.AbstractEventLoop) -> int:
    """How many turns a loaded loop (each turn spends BUSY_TURN on other work) takes to
    accept WAITING connections that were already waiting in its listening socket's queue."""
    listener = _listening()
    clients = [socket.create_connection(listener.getsockname()) for _ in range(WAITING)]
    turns = 0

    def busy() -> None:  # the loop's other work: one slice of it per turn
        nonlocal turns
        turns += 1
        time.sleep(BUSY_TURN)
        loop.call_soon(busy)

    async def main() -> int:
        Counting.made = 0
        server = await loop.create_server(Counting, sock=listener, backlog=WAITING * 2)
        loop.call_soon(busy)
        while Counting.made < WAITING:
            await asyncio.sleep(0)
            assert turns < 10 * WAITING, f"{Counting.made} of {WAITING} accepted"
        server.close()
        return turns

    try:
        return loop.run_until_complete(main())
    finally:
        for client in clients:
            client.close()
        loop.close()


def test_a_loaded_loop_accepts_every_waiting_connection_in_a_few_turns(monkeypatch):
    monkeypatch.setattr(event_loop, "busy", lambda: False)
    batches = math.ceil(WAITING / event_loop.ACCEPTS_PER_TURN)
    assert _turns_to_accept(new_event_loop()) <= batches + 2  # + handing the last ones over


def test_a_busy_process_accepts_one_connection_a_turn_as_uvloop_does(monkeypatch):
    """Too many requests on their threads already: the rest wait in the kernel's queue,
    costing no thread, rather than all coming in at once."""
    monkeypatch.setattr(event_loop, "busy", lambda: True)
    assert _turns_to_accept(new_event_loop()) >= WAITING - 2


def test_the_studio_is_busy_when_its_request_threads_are():
    import studio.asgi  # noqa: F401 — it wires the check
    from studio import tuning

    assert event_loop.busy == tuning.REQUEST_THREADS.busy


def test_uvloop_itself_accepts_one_connection_a_turn():
    """Why the class exists (libuv/libuv#3696). When this fails, libuv accepts in batches
    again: then studio.event_loop can go."""
    assert _turns_to_accept(uvloop.new_event_loop()) >= WAITING - 2


async def _serve_and_ask(config: uvicorn.Config) -> tuple[str, type]:
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done(), "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient() as client:
        answers = [client.get(f"http://127.0.0.1:{port}/") for _ in range(20)]
        bodies = {(await answer).text for answer in answers}
    kind = type(server.servers[0])
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    return bodies.pop(), kind


async def _hello(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


def test_uvicorn_serves_on_it_by_name_and_shuts_down():
    config = uvicorn.Config(
        _hello,
        host="127.0.0.1",
        port=0,
        loop="studio.event_loop:new_event_loop",
        lifespan="off",
        log_level="warning",
    )
    factory = config.get_loop_factory()
    assert factory is new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        body, kind = runner.run(_serve_and_ask(config))
    assert body == "hello" and kind is AcceptingServer


@pytest.mark.parametrize(
    "host, ssl",
    [("localhost", None), ("127.0.0.1", "tls")],
    ids=["a host name to resolve", "TLS"],
)
def test_what_it_does_not_handle_is_uvloop_s_own_server(host, ssl):
    import ssl as ssl_module

    async def main() -> type:
        context = ssl_module.create_default_context(ssl_module.Purpose.CLIENT_AUTH)
        server = await asyncio.get_running_loop().create_server(
            Counting, host, 0, ssl=context if ssl else None
        )
        server.close()
        return type(server)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        kind = runner.run(main())
    assert kind is not AcceptingServer and kind.__module__.startswith("uvloop")


class _OutOfDescriptors(socket.socket):
    """A listening socket whose first accept fails as a process out of file descriptors."""

    failed = 0

    def accept(self):
        if not self.failed:
            self.failed += 1
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


def test_out_of_file_descriptors_it_pauses_then_accepts_again(monkeypatch, caplog):
    monkeypatch.setattr(event_loop, "RETRY_DELAY", 0.05)
    listener = _OutOfDescriptors(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        Counting.made = 0
        server = AcceptingServer(loop, Counting, listener, backlog=10)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        greeting = await asyncio.wait_for(reader.readexactly(5), 5)
        writer.close()
        server.close()
        await server.wait_closed()
        assert not server.is_serving() and server.sockets == ()
        return greeting

    with asyncio.Runner(loop_factory=Loop) as runner:
        assert runner.run(main()) == b"hello"
    assert listener.failed == 1 and Counting.made == 1
    assert "Cannot accept connections for" in caplog.text
