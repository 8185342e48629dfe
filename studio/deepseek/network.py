"""httpx's connections to DeepSeek over asyncio's own sockets, without anyio in between.

httpx's default transport reads through httpcore's anyio backend. For a stream that arrives a
token at a time, every token is a read of its own, and each read there costs an anyio cancel
scope (``fail_after``) and a pause and resume of the socket's reader (two ``epoll_ctl`` calls):
a third of the client's CPU per stream (``docs/decisions/0017-asyncio-sockets-for-deepseek.md``).
Here a protocol keeps reading into a buffer and a read only waits when the buffer is empty,
its timeout one timer per connection that each read moves (``docs/decisions/0052-*.md``).

httpcore's pool, HTTP/1.1 parsing (h11), TLS settings and error types are unchanged: only its
network backend (``httpcore.AsyncNetworkBackend``, a public interface) is this one. Reads stop
while more than ``HIGH_WATER`` bytes wait unread, as asyncio's own streams do.

One more thing is not httpcore's own: the pool's bookkeeping pass, which httpcore 1.0.9 runs
in time quadratic in its connections, on every request started and every response closed
(:class:`LinearPool`; ``docs/decisions/0046-the-pool-walks-its-connections-once.md``).
"""

from __future__ import annotations

import asyncio
import math
import ssl
import typing

import httpcore
import httpx

HIGH_WATER = 256 * 1024  # bytes read ahead of the reader before the socket is paused
HAPPY_EYEBALLS_DELAY = 0.25  # as anyio's connect_tcp: the next address after 250 ms


class _Buffered(asyncio.Protocol):
    """The connection's bytes as they arrive, until one read takes them."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False  # the peer closed, or the connection was lost
        self.error: BaseException | None = None
        self.reading = True
        self.writing = True
        self._waiter: asyncio.Future[None] | None = None
        self._deadline = 0.0  # when the wait under way times out (the loop's clock)
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > HIGH_WATER and self.reading and self.transport is not None:
            self.reading = False
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self.writing = True
        self._wake()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pause_writing(self) -> None:
        self.writing = False

    def resume_writing(self) -> None:
        self.writing = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Until something happens on the connection (data, the peer closing, room to write);
        ``TimeoutError`` after ``timeout`` seconds.

        A stream waits once per token: rather than a timer made and cancelled for each wait
        (``asyncio.timeout``), each wait moves the connection's deadline, and one timer, when
        it fires, either ends the wait under way or is set again for the later deadline."""
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._deadline = math.inf if timeout is None else loop.time() + timeout
        if self._timer is None and timeout is not None:
            self._timer = loop.call_at(self._deadline, self._timed_out)
        try:
            await waiter
        finally:
            self._waiter = None

    def _timed_out(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():  # no wait under way: the next one sets a timer
            return
        loop = waiter.get_loop()
        if loop.time() >= self._deadline:
            waiter.set_exception(TimeoutError())
        elif self._deadline != math.inf:  # a later wait's: its own deadline, later
            self._timer = loop.call_at(self._deadline, self._timed_out)

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if not self.reading and len(self.buffer) <= HIGH_WATER // 4 and self.transport:
            self.reading = True
            self.transport.resume_reading()
        return data


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (TCP, or TLS over it), as httpcore reads and writes it."""

    def __init__(self, transport: asyncio.Transport, protocol: _Buffered) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.closed:
            try:
                await protocol.wait(timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out reading from DeepSeek") from None
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:  # reset, not closed: h11 must not read it as an end
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""  # the peer closed the connection: h11 decides whether that was early

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if self._transport.is_closing() or protocol.closed:
            raise httpcore.WriteError("the connection to DeepSeek is closed")
        try:
            self._transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc
        while not protocol.writing and not protocol.closed:
            try:
                await protocol.wait(timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing to DeepSeek") from None

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out opening TLS to DeepSeek") from None
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return AsyncioStream(typing.cast(asyncio.Transport, transport), self._protocol)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info == "is_readable":  # an idle pooled connection that the server closed (or wrote to)
            return bool(self._protocol.buffer) or self._protocol.closed
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio's event loop (TCP only: the API is HTTPS)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        # uvloop (what uvicorn runs on) tries the addresses in turn; asyncio's own loop races
        # them as anyio did.
        racing = {"happy_eyeballs_delay": HAPPY_EYEBALLS_DELAY}
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Buffered,
                    host,
                    port,
                    local_addr=local,
                    **(racing if isinstance(loop, asyncio.BaseEventLoop) else {}),
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Unix sockets are not used for DeepSeek")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LinearPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, its bookkeeping pass (run whenever a request comes or a response
    closes) in one walk of the connections instead of one per idle connection.

    httpcore 1.0.9's pass counts the pool's connections once for every idle one (and
    compares that count, not the idle ones', with ``max_keepalive_connections``), then lists
    every connection again for each queued request: with hundreds of streams open that is
    most of the read's CPU (encode/httpcore#1035, still open; pydantic/httpx2#974 made the
    same change in the fork). This pass makes the same decisions in the same order, except
    that surplus idle connections are counted as idle ones, as the setting says: the oldest
    idle connections beyond ``max_keepalive_connections`` close. It goes when httpcore ships
    the fix (``tests/deepseek/test_network.py`` compares it with httpcore's own pass).
    """

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        kept: list[httpcore.AsyncConnectionInterface] = []
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection.has_expired():
                closing.append(connection)
            else:
                kept.append(connection)
        idle = [connection for connection in kept if connection.is_idle()]
        if (surplus := len(idle) - self._max_keepalive_connections) > 0:
            evicted, idle = idle[:surplus], idle[surplus:]
            closing += evicted
            gone = {id(connection) for connection in evicted}
            kept = [connection for connection in kept if id(connection) not in gone]
        self._connections[:] = kept

        # Queued requests, in order: a connection of their origin that is available, else a
        # new one while there is room, else a new one in place of the oldest idle one. The
        # available connections are listed once per origin (Origin is not hashable).
        available: dict[tuple[bytes, bytes, int], list[httpcore.AsyncConnectionInterface]] = {}
        for pool_request in [request for request in self._requests if request.is_queued()]:
            origin = pool_request.request.url.origin
            key = (origin.scheme, origin.host, origin.port)
            if key not in available:
                available[key] = [
                    connection
                    for connection in self._connections
                    if connection.can_handle_request(origin) and connection.is_available()
                ]
            if available[key]:
                pool_request.assign_to_connection(available[key][0])
                continue
            if len(self._connections) >= self._max_connections:
                if not idle:
                    continue  # it waits for a connection to come back
                oldest = idle.pop(0)
                self._connections.remove(oldest)
                closing.append(oldest)
                for listed in available.values():
                    if oldest in listed:
                        listed.remove(oldest)
            connection = self.create_connection(origin)
            self._connections.append(connection)
            pool_request.assign_to_connection(connection)
            if connection.is_available():  # one that may multiplex (HTTP/2), as httpcore's
                available[key].append(connection)
        return closing


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (HTTP/1.1, TLS verified as httpx verifies it, the given pool
    limits), its connections opened and read by :class:`AsyncioBackend`."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        context = httpx.create_ssl_context()  # once: the pool below is the one used
        super().__init__(verify=context, limits=limits)
        self._pool = LinearPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )
