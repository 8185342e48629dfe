"""The client's own network backend (studio/deepseek/network.py) over real loopback sockets:
what httpcore needs of it (reads, writes, ends, resets, flow control, idle connections), and
that the client uses it by default."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

import httpcore
import pytest

from studio.deepseek import ConnectionFailed, DeepSeekClient, StreamTruncated, network
from studio.deepseek.network import AsyncioBackend, AsyncioTransport

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
