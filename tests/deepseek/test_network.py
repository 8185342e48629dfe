"""The client's own network backend (studio/deepseek/network.py) over real loopback sockets:
what httpcore needs of it (reads, writes, ends, resets, flow control, idle connections), and
that the client uses it by default."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import socket
import ssl
import subprocess
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import h11
import httpcore
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from studio.deepseek import ConnectionFailed, DeepSeekClient, StreamTruncated, network
from studio.deepseek.network import AsyncioBackend, AsyncioTransport, LinearPool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_the_client_reads_through_asyncio_sockets_by_default():
    client = DeepSeekClient(base_url="http://127.0.0.1:1", api_key="sk-test")
    try:
        transport = client._http._transport
        assert isinstance(transport, AsyncioTransport)
        assert isinstance(transport._pool._network_backend, AsyncioBackend)
    finally:
        await client.aclose()


async def test_reads_writes_and_the_peer_closing():
    async def echo_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        writer.write(await reader.readexactly(5))
        await writer.drain()
        writer.close()

    async with serving(echo_then_close) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"hello", timeout=5)
        got = b""
        while chunk := await stream.read(2, timeout=5):
            got += chunk
        assert got == b"hello"
        assert await stream.read(64) == b""  # closed stays closed
        assert stream.get_extra_info("is_readable") is True  # a pool drops it
        with pytest.raises(httpcore.WriteError):
            await stream.write(b"more")
        await stream.aclose()


async def test_a_read_that_waits_too_long_times_out():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        await reader.read()

    async with serving(silent) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port)
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(64, timeout=0.05)
        assert stream.get_extra_info("is_readable") is False  # idle and open: reusable
        await stream.aclose()


async def test_each_read_waits_its_own_timeout_from_when_it_starts():
    """One timer per connection, moved by each read: reads that each get their data within
    their timeout never time out, however long the stream; a read with no timeout is never
    cut by an earlier read's; a read that gets nothing times out its own timeout after it
    began, not an earlier read's."""
    go = asyncio.Event()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        for _ in range(8):  # 0.8 s in all, a byte every 0.1 s
            await asyncio.sleep(0.1)
            writer.write(b"x")
        await go.wait()
        await asyncio.sleep(0.6)  # longer than the first reads' timeout
        writer.write(b"y")
        await reader.read()

    loop = asyncio.get_running_loop()
    async with serving(trickle) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port)
        for _ in range(8):  # each well within its own 0.5 s; all together past the first's
            assert await stream.read(64, timeout=0.5) == b"x"
        go.set()
        assert await stream.read(64, timeout=None) == b"y"  # past the last read's timer
        started = loop.time()
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(64, timeout=0.2)
        assert loop.time() - started >= 0.2
        await stream.aclose()


async def test_a_reset_is_an_error_not_an_end():
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST

    async with serving(reset) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port)
        await asyncio.sleep(0.05)
        with pytest.raises(httpcore.ReadError):
            await stream.read(64, timeout=5)
        await stream.aclose()


async def test_reading_pauses_while_the_reader_lags_and_nothing_is_lost(monkeypatch):
    monkeypatch.setattr(network, "HIGH_WATER", 64 * 1024)
    body = bytes(range(256)) * 4096  # 1 MiB

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        writer.write(body)
        await writer.drain()
        writer.close()

    async with serving(flood) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port)
        protocol = stream._protocol
        paused = False
        got = bytearray()
        while chunk := await stream.read(16 * 1024, timeout=5):
            got += chunk
            paused = paused or not protocol.reading
            await asyncio.sleep(0)  # a slow reader
        assert bytes(got) == body
        assert paused
        await stream.aclose()


async def test_a_refused_connection_fails_as_a_connection_error():
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_tcp("127.0.0.1", free_port(), timeout=5)
    client = DeepSeekClient(base_url=f"http://127.0.0.1:{free_port()}", api_key="sk-test")
    try:
        with pytest.raises(ConnectionFailed):
            await anext(client.stream_chat(messages=[{"role": "user", "content": "hi"}], model="m"))
    finally:
        await client.aclose()


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def test_a_stream_cut_mid_answer_is_truncated_and_the_next_ask_opens_a_new_connection():
    connections = 0

    async def answer_then_cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        event = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
        writer.write(SSE_HEAD + chunk(event))
        await writer.drain()
        writer.close()  # before [DONE] and the final chunk

    messages = [{"role": "user", "content": "hi"}]
    async with (
        serving(answer_then_cut) as port,
        DeepSeekClient(base_url=f"http://127.0.0.1:{port}", api_key="sk") as client,
    ):
        for _ in range(2):
            texts = []
            with pytest.raises(StreamTruncated):
                async for event in client.stream_chat(messages=messages, model="m"):
                    texts.append(event.text)
            assert texts == ["Hi"]
    assert connections == 2


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for localhost (openssl), as DeepSeek's API is HTTPS."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(  # noqa: S603
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",  # noqa: S607
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


async def _tls_echo(key, cert) -> bytes:
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    client_side = ssl.create_default_context(cafile=str(cert))

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        writer.write(await reader.readexactly(4))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_side)
    try:
        port = server.sockets[0].getsockname()[1]
        plain = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        stream = await plain.start_tls(client_side, server_hostname="localhost", timeout=5)
        assert stream.get_extra_info("ssl_object") is not None
        await stream.write(b"ping", timeout=5)
        got = b""
        while chunk := await stream.read(64, timeout=5):
            got += chunk
        await stream.aclose()
        return got
    finally:
        server.close()


async def test_tls_over_the_connection(tls_files):
    assert await _tls_echo(*tls_files) == b"ping"


def test_tls_over_the_connection_on_uvloop(tls_files):
    uvloop = pytest.importorskip("uvloop")
    assert uvloop.run(_tls_echo(*tls_files)) == b"ping"


async def test_a_certificate_that_does_not_verify_fails_to_connect(tls_files):
    key, cert = tls_files
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=server_side)
    try:
        port = server.sockets[0].getsockname()[1]
        plain = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.ConnectError):  # not signed by a known authority
            await plain.start_tls(ssl.create_default_context(), "localhost", timeout=5)
    finally:
        server.close()


# The pool's bookkeeping pass (LinearPool): the decisions httpcore's own pass makes, in one
# walk of the connections. Fake connections stand for httpcore's (the pass only asks them
# these questions); the requests are httpcore's own.


class _Connection:
    """A pooled connection as the pass sees it; each answer counted."""

    asked = 0

    def __init__(self, name: str, origin: str, state: str) -> None:
        self.name, self.origin, self.state = name, origin, state

    def _ask(self, answer: bool) -> bool:
        _Connection.asked += 1
        return answer

    def is_closed(self) -> bool:
        return self._ask(self.state == "closed")

    def has_expired(self) -> bool:
        return self._ask(self.state == "expired")

    def is_idle(self) -> bool:
        return self._ask(self.state in ("idle", "expired"))

    def is_available(self) -> bool:
        return self._ask(self.state == "idle")

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return self._ask(self.origin == origin.host.decode())


def _pool(pool_class, connections, queued, *, most: int, idle_kept: int):
    pool = pool_class(max_connections=most, max_keepalive_connections=idle_kept)
    pool._connections = list(connections)
    pool._requests = [
        AsyncPoolRequest(httpcore.Request("POST", f"https://{host}/chat/completions"))
        for host in queued
    ]
    made = iter(range(1_000_000))
    pool.create_connection = lambda origin: _Connection(
        f"new{next(made)}", origin.host.decode(), "connecting"
    )
    return pool


def _pass(pool) -> tuple[list[str], list[str], list[str | None]]:
    closing = pool._assign_requests_to_connections()
    return (
        [c.name for c in pool._connections],
        [c.name for c in closing],
        [r.connection.name if r.connection else None for r in pool._requests],
    )


async def test_the_pool_decides_as_httpcore_s_own_pass():
    """Random pools (closed, expired, busy, idle connections to two origins; requests queued
    for either; full or not): the same connections kept and closed, the same assignments.
    Within ``max_keepalive_connections`` of connections in all, where httpcore's count of
    surplus idle connections (every connection counted) cannot differ from the idle ones'."""
    rng = random.Random(46)
    for case in range(2000):
        kinds = ["closed", "expired", "busy", "idle"]
        states = rng.choices(kinds, weights=[1, 1, 4, 4], k=rng.randrange(0, 12))
        hosts = [rng.choice(["a.test", "b.test"]) for _ in states]
        queued = rng.choices(["a.test", "b.test"], k=rng.randrange(0, 5))
        most = rng.randrange(max(1, len(states)), len(states) + 3)  # full when equal
        passes = [
            _pass(_pool(kind, _connections(hosts, states), queued, most=most, idle_kept=most))
            for kind in (LinearPool, httpcore.AsyncConnectionPool)
        ]
        assert passes[0] == passes[1], (case, states, hosts, queued, most)


def _connections(hosts: list[str], states: list[str]) -> list[_Connection]:
    return [_Connection(f"c{i}", *each) for i, each in enumerate(zip(hosts, states, strict=True))]


async def test_a_full_pool_closes_its_oldest_idle_connections_for_another_origin():
    """One idle connection closed per request that finds no room, oldest first, as httpcore
    closes them."""
    for kind in (LinearPool, httpcore.AsyncConnectionPool):
        connections = _connections(["b.test"] * 3, ["busy", "idle", "idle"])
        pool = _pool(kind, connections, ["a.test"] * 3, most=3, idle_kept=3)

        # The third request waits: no idle connection is left to close.
        assert _pass(pool) == (["c0", "new0", "new1"], ["c1", "c2"], ["new0", "new1", None])


async def test_idle_connections_beyond_the_keepalive_limit_close_oldest_first():
    """What the setting says (httpcore 1.0.9 compares every connection's count instead, and
    here would close every idle one)."""
    connections = [
        _Connection("busy", "a.test", "busy"),
        *(_Connection(f"idle{i}", "a.test", "idle") for i in range(3)),
    ]
    pool = _pool(LinearPool, connections, [], most=10, idle_kept=2)

    assert _pass(pool) == (["busy", "idle1", "idle2"], ["idle0"], [])


async def test_the_pass_asks_each_connection_a_few_questions_not_one_per_other_connection():
    """A thousand idle streams' connections and a request coming: httpcore's own pass asks
    about a million questions (each idle connection counts them all); this one a few per
    connection."""
    connections = [_Connection(f"c{i}", "a.test", "idle") for i in range(1000)]
    pool = _pool(LinearPool, connections, ["a.test"], most=1050, idle_kept=1050)
    _Connection.asked = 0

    kept, closing, assigned = _pass(pool)

    assert len(kept) == 1000 and closing == [] and assigned == ["c0"]
    assert _Connection.asked <= 6 * len(connections)


# A chunked body's data chunks, read in one pass (ChunkedHTTP11Connection): the bytes of a
# response as a connection's reads give them, split every way, against what the body is.


class _Reads(httpcore.AsyncNetworkStream):
    """A connection whose reads return these pieces, then the peer closing (b"")."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)
        self.closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True


ORIGIN = httpcore.Origin(b"http", b"deepseek.test", 80)
HEAD = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
EVENTS = [b'data: {"choices":[{"delta":{"content":"%d \xe4\xbd\xa0"}}]}\n\n' % i for i in range(12)]
BODY = b"".join(EVENTS) + b"data: [DONE]\n\n"
WIRE = HEAD + b"".join(chunk(event) for event in EVENTS) + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"


def _post() -> httpcore.Request:
    headers = [(b"Host", b"deepseek.test"), (b"Content-Length", b"2")]
    return httpcore.Request(
        "POST", "http://deepseek.test/chat/completions", headers=headers, content=b"{}"
    )


def _split(wire: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *sorted(set(cuts)), len(wire)]
    return [wire[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]


async def _body(stream: httpcore.AsyncNetworkStream, connection=None) -> tuple[bytes, object]:
    """The body of one POST on ``connection`` (a new one over ``stream``), and the connection."""
    connection = connection or network.ChunkedHTTP11Connection(origin=ORIGIN, stream=stream)
    request = _post()
    response = await connection.handle_async_request(request)
    try:
        return b"".join([piece async for piece in response.aiter_stream()]), connection
    finally:
        await response.aclose()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16, 64, 1000, len(WIRE)])
async def test_a_chunked_body_read_in_pieces_of_every_size_is_whole_and_the_connection_kept(size):
    reads = [WIRE[i : i + size] for i in range(0, len(WIRE), size)]

    body, connection = await _body(_Reads(*reads))

    assert body == BODY
    assert connection.is_idle()  # the message ended as h11 ends one: kept for the next


async def test_a_chunked_body_cut_at_random_places_is_whole():
    shuffle = random.Random(54)
    for _ in range(300):
        cuts = [shuffle.randrange(1, len(WIRE)) for _ in range(shuffle.randrange(1, 40))]
        body, connection = await _body(_Reads(*_split(WIRE, cuts)))
        assert body == BODY and connection.is_idle()


async def test_the_data_chunks_are_not_parsed_event_by_event_by_h11(monkeypatch):
    """The fast path is taken: h11 reads the headers and the last chunk, not each data chunk
    (with it, a body of 13 chunks read a byte at a time costs h11 hundreds of events)."""
    calls = 0
    next_event = h11.Connection.next_event

    def counted(self):
        nonlocal calls
        calls += 1
        return next_event(self)

    monkeypatch.setattr(h11.Connection, "next_event", counted)

    body, _ = await _body(_Reads(*[WIRE[i : i + 1] for i in range(len(WIRE))]))

    assert body == BODY
    assert calls < 100  # the headers a byte a read (~50), then the last chunk's few


async def test_two_responses_on_one_connection_and_trailers_after_the_last_chunk():
    first = HEAD + chunk(b"one") + b"0\r\nx-usage: 3\r\n\r\n"
    second = HEAD + chunk(b"two") + chunk(b"!") + b"0\r\n\r\n"
    stream = _Reads(first, second)

    body, connection = await _body(stream)
    again, _ = await _body(stream, connection)

    assert (body, again) == (b"one", b"two!")
    assert connection.is_idle() and not stream.closed


@pytest.mark.parametrize(
    "size_line",
    [b"3;name=value", b"3 ", b"0003", b"3\t"],
    ids=["an extension", "whitespace", "leading zeros", "a tab"],
)
async def test_a_size_line_in_another_form_is_left_to_h11_and_read_as_it_reads_it(size_line):
    wire = HEAD + chunk(b"ab") + size_line + b"\r\nxyz\r\n" + chunk(b"cd") + b"0\r\n\r\n"

    body, connection = await _body(_Reads(*_split(wire, [len(HEAD) + 3, len(wire) - 9])))

    assert body == b"abxyzcd" and connection.is_idle()


@pytest.mark.parametrize(
    ("wire", "message", "before"),
    [
        (HEAD + chunk(b"ab") + b"zz\r\nxyz\r\n0\r\n\r\n", "illegal chunk header", b"ab"),
        (HEAD + chunk(b"ab") + b"2\r\nxyzz\r\n0\r\n\r\n", "malformed chunk footer", b"abxy"),
        (HEAD + chunk(b"ab") + b"2" * (20 * 1024), "chunk size line too long", b"ab"),
        (HEAD + chunk(b"ab") + b"5\r\nxy", "incomplete chunked read", b"abxy"),
        (HEAD + chunk(b"ab"), "incomplete chunked read", b"ab"),
    ],
    ids=[
        "not a size",
        "no CRLF after the data",
        "a size line with no end",
        "cut mid-chunk",
        "cut between chunks",
    ],
)
async def test_a_broken_body_is_a_protocol_error_after_what_came_and_closes(wire, message, before):
    stream = _Reads(*_split(wire, [len(HEAD) + 4]))
    connection = network.ChunkedHTTP11Connection(origin=ORIGIN, stream=stream)
    request = _post()
    response = await connection.handle_async_request(request)
    pieces = []

    with pytest.raises(httpcore.RemoteProtocolError, match=message):
        async for piece in response.aiter_stream():
            pieces.append(piece)

    assert b"".join(pieces) == before  # what came before the break, as h11 gives it
    assert connection.is_closed() and stream.closed  # never reused


@pytest.mark.parametrize("with_the_end", [False, True], ids=["mid-body", "with-the-end"])
async def test_a_read_s_data_out_with_the_reader_is_its_only_copy_held(with_the_end):
    """Under load a reader keeps what a read gave it a while (its events go one at a time,
    each awaiting): meanwhile the body's reader holds neither the read nor its slices, only
    the one piece it gave: 512 chunks of 2 KiB in one read, 1 MiB out, not 2 or 3. So in a
    read that ends the body (h11 reads its end before the piece goes out)."""
    data = [bytes([65 + i % 26]) * 2048 for i in range(512)]
    body_end = b"0\r\n\r\n"
    wire = HEAD + b"".join(chunk(piece) for piece in data)
    stream = _Reads(wire + body_end) if with_the_end else _Reads(wire, body_end)
    connection = network.ChunkedHTTP11Connection(origin=ORIGIN, stream=stream)
    response = await connection.handle_async_request(_post())
    body = response.aiter_stream()
    tracemalloc.start()
    try:
        first = await anext(body)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert first == b"".join(data)
    assert len(first) <= held < 1.25 * len(first)
    assert [piece async for piece in body] == []
    await response.aclose()
    assert connection.is_idle()


async def test_a_body_with_a_length_is_read_by_h11():
    wire = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n" + b'{"ok":true}'

    body, connection = await _body(_Reads(wire[:30], wire[30:]))

    assert body == b'{"ok":true}' and connection.is_idle()


async def test_the_client_streams_over_chunked_connections_and_keeps_one_for_the_next_ask():
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        nonlocal connections
        connections += 1
        while True:  # until the client closes the connection
            try:
                head = (await reader.readuntil(b"\r\n\r\n")).lower()
            except asyncio.IncompleteReadError:
                return
            length = head.split(b"content-length:")[1].split(b"\r\n")[0]
            await reader.readexactly(int(length))
            writer.write(SSE_HEAD)
            for word in ("Hel", "lo"):
                delta = json.dumps({"choices": [{"index": 0, "delta": {"content": word}}]})
                writer.write(chunk(f"data: {delta}\n\n".encode()))
                await writer.drain()
            finish = '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'
            writer.write(chunk(f"data: {finish}\n\ndata: [DONE]\n\n".encode()) + b"0\r\n\r\n")
            await writer.drain()

    messages = [{"role": "user", "content": "hi"}]
    async with (
        serving(answer) as port,
        DeepSeekClient(base_url=f"http://127.0.0.1:{port}", api_key="sk") as client,
    ):
        for _ in range(2):
            texts = [
                event.text
                async for event in client.stream_chat(messages=messages, model="m")
                if hasattr(event, "text")
            ]
            assert texts == ["Hel", "lo"]
        pool = client._http._transport._pool
        assert {type(c._connection) for c in pool.connections} == {network.ChunkedHTTP11Connection}
    assert connections == 1
