"""The load generator: N concurrent streams over loopback, in a process of its own.

``python -m bench.loadgen SPEC.json RESULT.json``. SPEC says which path to load:

- ``studio``: the real UI endpoints as logged-in users: POST ``/w/<id>/generate/`` (CSRF
  header, ``HX-Request``), read ``sse-connect`` from the partial it answers, then follow that
  SSE stream (``delta`` events carry escaped text; ``done`` ends it). With
  ``fresh_connections`` every request opens a connection of its own.
- ``openai``: an OpenAI-compatible ``/chat/completions`` stream (the simulator directly, or
  the LiteLLM proxy in front of it), with the same request body the studio sends.

Stream i starts at ``i * ramp / n`` seconds, so about n streams are open at once; the whole
level is bounded by ``timeout`` seconds, after which unfinished streams are recorded as such.
For every stream it records when each piece of text arrived (seconds since the stream's first
request was sent) and how many characters had arrived by then: the harness turns that into
time to first token, per-token delays and lost chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SSE_CONNECT_RE = re.compile(r'sse-connect="([^"]+)"')


class SSEParser:
    """Incremental text/event-stream parser: feed bytes, get (event, data, id) tuples."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[tuple[str, str, str | None]]:
        self._buffer += chunk
        events = []
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            line = raw.decode().rstrip("\r")
            if not line:
                if self._data or self._event:
                    events.append((self._event or "message", "\n".join(self._data), self._id))
                self._event, self._data = "", []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                self._id = value
        return events


def _new_result(i: int) -> dict[str, Any]:
    return {"i": i, "ok": False, "error": "", "t": [], "chars": [], "text": "", "done": False}


async def studio_stream(
    client: httpx.AsyncClient, spec: dict[str, Any], user: dict[str, Any], i: int
) -> dict[str, Any]:
    result = _new_result(i)
    stream = spec["streams"][i]
    parts: list[str] = []
    length = 0
    start = time.perf_counter()
    response = await client.post(
        f"/w/{user['workspace_id']}/generate/",
        data={"version": spec["version_id"], "topic": stream["topic"]},
        headers={"X-CSRFToken": user["csrftoken"], "HX-Request": "true"},
    )
    result["post_s"] = time.perf_counter() - start
    result["post_worker"] = response.headers.get("x-bench-worker")
    match = SSE_CONNECT_RE.search(response.text)
    if response.status_code != 200 or not match:
        result["error"] = f"POST generate: HTTP {response.status_code}"
        return result
    url = html.unescape(match.group(1))
    result["generation_id"] = int(re.search(r"/generations/(\d+)/", url).group(1))
    parser = SSEParser()
    async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as events:
        if events.status_code != 200:
            result["error"] = f"GET events: HTTP {events.status_code}"
            return result
        result["events_worker"] = events.headers.get("x-bench-worker")
        async for chunk in events.aiter_raw():
            now = time.perf_counter() - start
            for event, data, _ in parser.feed(chunk):
                if event == "delta":
                    text = html.unescape(data)
                    parts.append(text)
                    length += len(text)
                    result["t"].append(now)
                    result["chars"].append(length)
                elif event == "done":
                    result["done"] = True
            if result["done"]:
                break
    result["text"] = "".join(parts)
    result["ok"] = result["done"]
    if not result["done"]:
        result["error"] = "stream ended without its done event"
    return result


async def openai_stream(client: httpx.AsyncClient, spec: dict[str, Any], i: int) -> dict[str, Any]:
    result = _new_result(i)
    body = {**spec["body"], "messages": spec["streams"][i]["messages"]}
    parts: list[str] = []
    length = 0
    parser = SSEParser()
    start = time.perf_counter()
    async with client.stream("POST", "/chat/completions", json=body) as response:
        if response.status_code != 200:
            result["error"] = f"HTTP {response.status_code}: {(await response.aread())[:300]!r}"
            return result
        async for chunk in response.aiter_raw():
            now = time.perf_counter() - start
            for _, data, _ in parser.feed(chunk):
                if data == "[DONE]":
                    result["done"] = True
                    continue
                payload = json.loads(data)
                if payload.get("usage"):
                    result["completion_tokens"] = payload["usage"].get("completion_tokens")
                for choice in payload.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        parts.append(text)
                        length += len(text)
                        result["t"].append(now)
                        result["chars"].append(length)
    result["text"] = "".join(parts)
    result["ok"] = result["done"]
    if not result["done"]:
        result["error"] = "stream ended without [DONE]"
    return result


async def _guarded(coro, i: int) -> dict[str, Any]:
    try:
        return await coro
    except Exception as exc:  # one failed stream is a measurement, not the end of the bench
        result = _new_result(i)
        result["error"] = f"{type(exc).__name__}: {exc}"[:300]
        return result


async def run(spec: dict[str, Any]) -> list[dict[str, Any]]:
    n, ramp = spec["n"], spec["ramp"]
    # fresh_connections: no connection is reused, so that with several server workers a
    # stream's POST and its SSE GET may each land on any of them (the kernel hands them out).
    keepalive = 0 if spec.get("fresh_connections") else n + 10
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=keepalive)
    timeout = httpx.Timeout(30.0, read=None, pool=None)
    clients: list[httpx.AsyncClient] = []
    if spec["mode"] == "studio":
        for user in spec["users"]:
            cookies = {"sessionid": user["sessionid"], "csrftoken": user["csrftoken"]}
            clients.append(
                httpx.AsyncClient(
                    base_url=spec["base_url"], cookies=cookies, limits=limits, timeout=timeout
                )
            )
    else:
        headers = {"Authorization": f"Bearer {spec['api_key']}"}
        clients.append(
            httpx.AsyncClient(
                base_url=spec["base_url"], headers=headers, limits=limits, timeout=timeout
            )
        )

    count = spec.get("count", n)
    results: dict[int, dict[str, Any]] = {}

    async def one(i: int) -> None:
        if n > 1:
            await asyncio.sleep(i * ramp / n)
        if spec["mode"] == "studio":
            user_index = i % len(spec["users"])
            coro = studio_stream(clients[user_index], spec, spec["users"][user_index], i)
        else:
            coro = openai_stream(clients[0], spec, i)
        results[i] = await _guarded(coro, i)

    async def all_streams() -> None:
        if n == 1:  # N=1 repeats single streams one after another: percentiles need samples
            for i in range(count):
                await one(i)
            return
        async with asyncio.TaskGroup() as group:
            for i in range(count):
                group.create_task(one(i))

    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(spec["timeout"]):
            await all_streams()
    unfinished = f"not finished within the level's {spec['timeout']:.0f} s"
    out = [results.get(i) or {**_new_result(i), "error": unfinished} for i in range(count)]
    for client in clients:
        await client.aclose()
    return out


def raise_file_limit() -> None:
    """Each open stream is a socket; lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str]) -> None:
    raise_file_limit()
    spec = json.loads(Path(argv[0]).read_text())
    try:
        from uvloop import new_event_loop as loop_factory  # what uvicorn[standard] runs on
    except ImportError:
        loop_factory = None
    started = time.perf_counter()
    results = asyncio.run(run(spec), loop_factory=loop_factory)
    out = {"wall_s": time.perf_counter() - started, "streams": results}
    Path(argv[1]).write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
