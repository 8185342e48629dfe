"""CPU per stream of the upstream read alone: streams from the simulator, read in this process
under uvloop (as uvicorn runs the studio) at four depths, with no Django, database or SSE side.

- ``socket``: the response's bytes as the studio's network stream reads them
  (``studio.deepseek.network.AsyncioStream``), no HTTP parsing: a connection's floor.
- ``h11``: the same bytes through h11, the HTTP/1.1 parser under httpx (its events only).
- ``httpx``: the response's bytes through httpx and the studio's connection pool
  (``studio.deepseek.network``, which splits a chunked body's data off each read itself and
  leaves h11 the headers and the body's end: decision 54): the floor for a change to the
  client above httpx.
- ``client``: ``DeepSeekClient.stream_chat``, what a generation reads: the bytes above, then
  the SSE parser, each chunk's JSON and the typed events.

Each depth less the one before is what its layer costs a stream: ``h11`` less ``socket`` h11's
parsing of every event, ``httpx`` less ``socket`` the studio's own (the request, the pool,
httpcore's and httpx's iterators), ``client`` less ``httpx`` ``studio/deepseek/client.py`` and
``sse.py``. The simulator runs in a process of its
own (its CPU is not counted); the depths alternate, and each figure is the median of the
rounds (docs/decisions/0045-*.md).

    .venv/bin/python -m bench.upstream [streams] [tokens] [rounds]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import h11
import httpx
import uvloop

from studio.deepseek import DeepSeekClient
from studio.deepseek.network import AsyncioBackend, AsyncioTransport

DEPTHS = ("socket", "h11", "httpx", "client")
SPREAD = 4.0  # seconds over which the streams start, as the bench's ramp
MESSAGES = [{"role": "user", "content": "Write about streaming benchmarks"}]
MODEL = "deepseek-v4-flash"
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=1000)  # one per stream


async def _stream(depth: str, url: str, pool: httpx.AsyncClient, client: DeepSeekClient,
                  tokens: int, delay: float) -> int:  # fmt: skip
    await asyncio.sleep(delay)
    items = 0
    if depth == "client":
        async for _ in client.stream_chat(messages=MESSAGES, model=MODEL, max_tokens=tokens):
            items += 1
        return items
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": tokens, "stream": True}
    headers = {"Authorization": "Bearer sk-bench"}
    if depth in ("socket", "h11"):
        return await _bare(depth, httpx.URL(f"{url}/chat/completions"), body, headers)
    async with pool.stream(
        "POST", f"{url}/chat/completions", json=body, headers=headers
    ) as response:
        response.raise_for_status()
        async for _ in response.aiter_raw():
            items += 1
    return items


async def _bare(depth: str, url: httpx.URL, body: dict, headers: dict[str, str]) -> int:
    """One stream on a connection of its own, below httpx: its reads (``socket``) or h11's
    events (``h11``); the request written by h11, the connection closed after it."""
    content = json.dumps(body).encode()
    fields = [("Host", url.netloc.decode()), ("Content-Type", "application/json"),
              ("Content-Length", str(len(content))), *headers.items()]  # fmt: skip
    parser = h11.Connection(h11.CLIENT)
    request = parser.send(h11.Request(method="POST", target=url.raw_path, headers=fields))
    request = b"".join([request or b"", parser.send(h11.Data(data=content)) or b""])
    request += parser.send(h11.EndOfMessage()) or b""
    stream = await AsyncioBackend().connect_tcp(url.host, url.port or 80)
    items = 0
    try:
        await stream.write(request)
        if depth == "socket":  # chunked: the body ends with its last, empty chunk
            tail = b""
            while data := await stream.read(65536, timeout=60):
                items += 1
                tail = (tail + data)[-5:]
                if tail == b"0\r\n\r\n":
                    break
            return items
        while True:
            event = parser.next_event()
            if event is h11.NEED_DATA:
                parser.receive_data(await stream.read(65536, timeout=60))
            elif isinstance(event, h11.Data):
                items += 1
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return items
    finally:
        await stream.aclose()


async def measure(url: str, depth: str, streams: int, tokens: int,
                  spread: float = SPREAD) -> tuple[float, float]:  # fmt: skip
    """CPU ms per stream in this process, and items (reads or events) per stream."""
    async with (
        httpx.AsyncClient(transport=AsyncioTransport(limits=LIMITS), timeout=60) as pool,
        DeepSeekClient(api_key="sk-bench", base_url=url) as client,
    ):
        await _stream(depth, url, pool, client, tokens, 0)  # connections and imports warm
        started = time.process_time()
        items = await asyncio.gather(
            *(_stream(depth, url, pool, client, tokens, spread * i / streams)
              for i in range(streams))
        )  # fmt: skip
        cpu = time.process_time() - started
    return 1000 * cpu / streams, sum(items) / streams


@contextlib.contextmanager
def simulator() -> Iterator[str]:
    """The offline simulator at the bench's pace, in a process of its own; its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "studio.deepseek.simulator", "--host", "127.0.0.1",
               "--port", str(port), "--tps", "50", "--first-token-delay", "0.3", "--seed", "0",
               "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command)  # noqa: S603 — our own module, fixed arguments
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    args = [int(arg) for arg in sys.argv[1:4]]
    streams, tokens, rounds = [*args, *(100, 200, 3)[len(args) :]]
    figures: dict[str, list[float]] = {depth: [] for depth in DEPTHS}
    items: dict[str, float] = {}
    with simulator() as url:
        for _ in range(rounds):
            for depth in DEPTHS:
                cpu, items[depth] = uvloop.run(measure(url, depth, streams, tokens))
                figures[depth].append(cpu)
    for depth in DEPTHS:
        runs = ", ".join(f"{cpu:.2f}" for cpu in figures[depth])
        print(  # noqa: T201 — a command-line tool
            f"{depth:7} {streams} streams x {tokens} tokens: "
            f"{statistics.median(figures[depth]):.2f} ms CPU a stream (runs: {runs}), "
            f"{items[depth]:.0f} items a stream"
        )


if __name__ == "__main__":
    main()
