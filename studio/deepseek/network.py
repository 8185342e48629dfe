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

Two more things are not httpcore's own: the pool's bookkeeping pass, which httpcore 1.0.9 runs
in time quadratic in its connections, on every request started and every response closed
(:class:`LinearPool`; ``docs/decisions/0046-the-pool-walks-its-connections-once.md``), and the
read of a chunked body's data chunks, which h11 parses an event at a time, two events and a
context manager per token (:class:`ChunkedHTTP11Connection`;
``docs/decisions/0054-the-body-s-chunks-read-in-one-pass.md``).
"""

from __future__ import annotations

import asyncio
import math
import re
import ssl
import typing
from collections.abc import AsyncIterator

import h11
import httpcore
import httpx
from h11._readers import ChunkedReader
from h11._receivebuffer import ReceiveBuffer

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


# A data chunk's size line as DeepSeek writes it: hex digits alone. Anything else (the last
# chunk, a chunk extension, whitespace, a malformed line) is left to h11.
_PLAIN_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}").fullmatch
MAX_SIZE_LINE = 16 * 1024  # h11's limit on an incomplete event (its max_incomplete_event_size)


def _joined(pieces: list[bytes]) -> bytes:
    """``pieces`` as one, the list emptied: a generator that yields this holds no copy."""
    joined = b"".join(pieces)
    pieces.clear()
    return joined


class ChunkedHTTP11Connection(httpcore.AsyncHTTP11Connection):
    """httpcore's HTTP/1.1 connection, a chunked response body's data chunks read in one pass.

    h11 yields a body one event at a time: for a stream that arrives a token per read, two
    ``next_event`` calls (the data, then "need more"), each in httpcore's ``map_exceptions``
    context manager, and an ``h11.Data`` per token, about a fifth of the upstream read's CPU
    (``python -m bench.upstream``). Here the data chunks of a chunked body are split off each
    read directly (``size CRLF data CRLF``, the size hex digits alone), everything one read
    holds yielded as one piece. The rest of the message is still h11's: when the next size
    line is the last chunk's ("0", then any trailers), has an extension, or is not a size at
    all, the bytes from that line on go back into h11's buffer and h11 reads them, from a
    chunk boundary, as it would have (the end of the message, keep-alive, its errors). A
    body that is not chunked is h11's from its start.

    h11 0.16's reader and buffer are read and replaced here (private: ``_reader``,
    ``_receive_buffer``); :func:`_at_chunk_start` checks them first, and anything it does not
    recognise leaves the whole body to h11 (``tests/deepseek/test_network.py`` fails if the
    fast path stops being taken).
    """

    async def _receive_response_body(self, request: httpcore.Request) -> AsyncIterator[bytes]:
        if not _at_chunk_start(self._h11_state):
            async for data in super()._receive_response_body(request):
                yield data
            return
        timeout = request.extensions.get("timeout", {}).get("read")
        buffer = self._h11_state.trailing_data[0]  # what came with the headers
        remaining = 0  # the current chunk's data bytes not read yet
        footer = False  # its CRLF not read yet
        while True:
            pieces: list[bytes] = []
            broken: httpcore.RemoteProtocolError | None = None
            at, end = 0, len(buffer)
            while at < end:
                if remaining:
                    taken = min(remaining, end - at)
                    pieces.append(buffer[at : at + taken])
                    at, remaining = at + taken, remaining - taken
                    footer = not remaining
                    continue
                if footer:
                    if end - at < 2:
                        break
                    if buffer[at : at + 2] != b"\r\n":
                        broken = httpcore.RemoteProtocolError(
                            f"malformed chunk footer: {buffer[at : at + 2]!r}"
                        )
                        break
                    at, footer = at + 2, False
                    continue
                line_end = buffer.find(b"\r\n", at)
                if line_end < 0:
                    if end - at > MAX_SIZE_LINE:
                        broken = httpcore.RemoteProtocolError("chunk size line too long")
                    break
                size = buffer[at:line_end]
                if not _PLAIN_SIZE(size) or not (remaining := int(size, 16)):
                    rest, buffer = buffer[at:], b""
                    async for data in self._h11_from(rest, pieces, request):
                        yield data
                    return
                at = line_end + 2
            # What came whole, before any break: while it is out (the reader may keep it a
            # while, under load), the read and its slices are let go, not held beside it.
            buffer = buffer[at:]
            if pieces:
                yield _joined(pieces)
            if broken is not None:
                raise broken
            data = await self._network_stream.read(self.READ_NUM_BYTES, timeout=timeout)
            if not data:
                raise httpcore.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)"
                )
            buffer = buffer + data if buffer else data
            del data  # the buffer is the read now: no second name holding it

    async def _h11_from(
        self, rest: bytes, pieces: list[bytes], request: httpcore.Request
    ) -> AsyncIterator[bytes]:
        """The body from ``rest`` on, read by h11, after ``pieces`` (read before it).

        ``rest`` starts at a chunk's size line, where h11's reader, which has read nothing of
        this body, expects one. What h11 can read of it at once is read before anything goes
        out: when the answer's last event comes in the same read as the body's end, a reader
        that stops at that event ("[DONE]") leaves the connection at the end of its message,
        kept for the next request rather than closed."""
        state = self._h11_state
        state._receive_buffer = ReceiveBuffer()
        state.receive_data(rest)
        try:
            while isinstance(event := state.next_event(), h11.Data):
                pieces.append(bytes(event.data))
        except h11.ProtocolError as exc:
            if pieces:
                yield _joined(pieces)
            raise httpcore.RemoteProtocolError(str(exc)) from exc
        if pieces:
            yield _joined(pieces)
        if event is h11.NEED_DATA:
            async for data in super()._receive_response_body(request):
                yield data


def _at_chunk_start(state: h11.Connection) -> bool:
    """Whether h11 is about to read a chunked response body from its start."""
    reader = getattr(state, "_reader", None)
    return (
        type(reader) is ChunkedReader
        and state.their_state is h11.SEND_BODY
        and isinstance(getattr(state, "_receive_buffer", None), ReceiveBuffer)
        and not state.trailing_data[1]  # the connection had closed already: h11's to say
        and getattr(reader, "_bytes_in_chunk", None) == 0
        and getattr(reader, "_bytes_to_discard", None) == b""
        and getattr(reader, "_reading_trailer", None) is False
    )


class _Connection(httpcore.AsyncHTTPConnection):
    """httpcore's connection to one origin, HTTP/1.1 over :class:`ChunkedHTTP11Connection`
    (the transport offers no HTTP/2: ALPN asks for ``http/1.1`` alone)."""

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if not self.can_handle_request(request.url.origin):
            raise RuntimeError(
                f"Attempted to send request to {request.url.origin} on connection to {self._origin}"
            )
        try:
            async with self._request_lock:
                if self._connection is None:
                    stream = await self._connect(request)
                    self._connection = ChunkedHTTP11Connection(
                        origin=self._origin, stream=stream, keepalive_expiry=self._keepalive_expiry
                    )
        except BaseException:
            self._connect_failed = True
            raise
        return await self._connection.handle_async_request(request)


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

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        return _Connection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            retries=self._retries,
            local_address=self._local_address,
            network_backend=self._network_backend,
            socket_options=self._socket_options,
        )


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
