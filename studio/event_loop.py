"""uvicorn's event loop (uvloop), accepting waiting connections in batches while there is room.

libuv, under uvloop, accepts one connection per turn of the event loop (since libuv 1.45,
libuv/libuv#3696). A turn of a loaded studio worker takes tens of milliseconds (hundreds of
streams' tokens, frames and timers), so it accepted a few tens of connections a second while
the rest waited in the kernel's queue: at 500 streams a Generate or an event stream waited
seconds before the studio saw it (``docs/decisions/0048-every-waiting-connection-accepted.md``).

:class:`Loop` is uvloop's loop with one change: a TCP server made with ``create_server`` (what
uvicorn calls, with the socket it bound or with a host and port) takes up to
:data:`ACCEPTS_PER_TURN` waiting connections each time its socket is ready, as asyncio's own
loop does, and hands each to uvloop (``connect_accepted_socket``, public API): the connections
themselves are uvloop's transports, as before. While the process is :data:`busy` (too many
requests at once on their threads) it takes one a turn, as uvloop does: the queue then holds
the rest back at no cost. Anything else (TLS, Unix sockets, a host name to resolve) is
uvloop's own server.

``manage.py serve`` and the Dockerfile's ``uvicorn --loop studio.event_loop:new_event_loop``
use it.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import typing

import uvloop

logger = logging.getLogger(__name__)

# Connections taken each time the listening socket is ready. asyncio's loop takes up to the
# backlog; fewer leaves some for the other workers sharing the socket, whose loop may turn
# sooner, and lets the busy check below look again between batches.
ACCEPTS_PER_TURN = 16
# Out of file descriptors or memory: accept nothing for a second (as asyncio does), then retry.
RETRY_DELAY = 1.0
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def _never_busy() -> bool:
    return False


# Whether the process is too busy for a batch: then one connection a turn, as uvloop takes
# them (the rest wait in the kernel's queue). The studio's ASGI module sets it (the request
# threads in use: studio.tuning.RequestThreads.busy).
busy: typing.Callable[[], bool] = _never_busy


class AcceptingServer(asyncio.AbstractServer):
    """A listening TCP socket whose waiting connections are accepted in batches."""

    def __init__(
        self,
        loop: Loop,
        protocol_factory: typing.Callable[[], asyncio.BaseProtocol],
        sock: socket.socket,
        backlog: int,
    ) -> None:
        self._loop = loop
        self._protocol_factory = protocol_factory
        self._socket: socket.socket | None = sock
        self._pending: set[asyncio.Task[typing.Any]] = set()
        self._closed = asyncio.Event()
        self._retry: asyncio.TimerHandle | None = None
        sock.setblocking(False)
        sock.listen(backlog)
        self._listen()

    def _listen(self) -> None:
        self._retry = None
        if self._socket is not None:
            self._loop.add_reader(self._socket.fileno(), self._accept)

    def _accept(self) -> None:
        sock = self._socket
        for taken in range(ACCEPTS_PER_TURN):
            if sock is None or (taken and busy()):
                return
            try:
                connection, _address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # nothing more waiting
            except ConnectionAbortedError:
                continue  # the client gave up before it was accepted
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                logger.error("Cannot accept connections for %.0f s: %s", RETRY_DELAY, exc)
                self._loop.remove_reader(sock.fileno())
                self._retry = self._loop.call_later(RETRY_DELAY, self._listen)
                return
            task = self._loop.create_task(self._hand_over(connection))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _hand_over(self, connection: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, connection)
        except OSError as exc:  # the client went away while its transport was made
            logger.debug("Connection lost as it was accepted: %s", exc)
            connection.close()  # a no-op when its transport closed it already
        except Exception:
            logger.exception("Could not serve an accepted connection")
            connection.close()

    # asyncio.AbstractServer

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._socket is None else (self._socket,)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._socket is not None

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if self._retry is not None:
            self._retry.cancel()
        if sock is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()
            self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()
        if self._pending:
            await asyncio.wait(list(self._pending))

    async def start_serving(self) -> None:
        """Serving starts as the server is made."""

    async def serve_forever(self) -> None:
        await self._closed.wait()

    def close_clients(self) -> None:
        """The connections belong to uvicorn, which closes them itself."""

    def abort_clients(self) -> None:
        """The connections belong to uvicorn, which closes them itself."""


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return False
    return True


class Loop(uvloop.Loop):
    """uvloop's loop, whose plain TCP servers accept every waiting connection at each turn."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: typing.Callable[[], asyncio.BaseProtocol],
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        ssl: typing.Any = None,
        backlog: int = 100,
        **kwargs: typing.Any,
    ) -> asyncio.AbstractServer:
        plain = ssl is None and not kwargs
        if sock is not None:
            ours = plain and sock.family in (socket.AF_INET, socket.AF_INET6)
        else:
            ours = plain and port is not None and _is_ip(host)
        if not ours:
            return await super().create_server(
                protocol_factory, host, port, sock=sock, ssl=ssl, backlog=backlog, **kwargs
            )
        if sock is None:
            family = socket.AF_INET6 if ":" in str(host) else socket.AF_INET
            sock = socket.create_server((str(host), int(port)), family=family, backlog=backlog)
        return AcceptingServer(self, protocol_factory, sock, backlog)


def new_event_loop() -> Loop:
    """uvicorn's ``--loop studio.event_loop:new_event_loop``."""
    return Loop()
