"""``bench.asgi`` with time marks on the path to the first token, for ``bench/trace.py``.

Marks (``time.perf_counter()``, the system's monotonic clock, comparable with the trace
client's): a request entering the ASGI app, the Generate view's trip to the ORM's thread
(``prompts.experiments.views.generate._start``, in and out), ``launch()``, the runner
starting, the resilient client asked, the upstream request handed to httpx's transport, the
first upstream chunk with text in it, and the first ``delta`` frame written to a watcher.
``GET /__trace__`` answers the marks so far as JSON and forgets them. Served only by
``bench/trace.py`` on loopback.
"""

from __future__ import annotations

import functools
import json
import re
import time
from typing import Any

import httpx

from bench.asgi import application as inner  # sets Django up: the studio's modules after it

TRACE_PATH = "/__trace__"
TEXT_CHUNK = re.compile(rb'"content":\s*"[^"]')  # an empty role chunk is not the first text
marks: list[tuple[str, float]] = []


def mark(name: str) -> None:
    marks.append((name, time.perf_counter()))


def _marked(function: Any, before: str, after: str | None = None) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(before)
        try:
            return function(*args, **kwargs)
        finally:
            if after:
                mark(after)

    return wrapper


def _marked_coroutine(function: Any, name: str) -> Any:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(name)  # when the task first runs, not when it is made
        return await function(*args, **kwargs)

    return wrapper


class _FirstText(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self.stream = stream

    async def __aiter__(self):
        seen = False
        async for chunk in self.stream:
            if not seen and TEXT_CHUNK.search(chunk):
                seen = True
                mark("upstream first text")
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


_transport = httpx.AsyncHTTPTransport.handle_async_request


async def _handle(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    mark("upstream send")
    response = await _transport(self, request)
    response.stream = _FirstText(response.stream)
    return response


def install() -> None:
    """Wrap the functions the marks name (module attributes looked up at call time)."""
    import drafts.generate
    import drafts.generation
    import prompts.experiments.views.generate
    from studio.deepseek.resilience import ResilientClient

    httpx.AsyncHTTPTransport.handle_async_request = _handle
    prompts.experiments.views.generate._start = _marked(
        prompts.experiments.views.generate._start, "view trip in"
    )
    # The commit's callback, on the view's thread: it hands launch() to the loop, which may
    # run it before the view's trip has returned (so the trip's end is no mark to start from).
    drafts.generate._launch = _marked(drafts.generate._launch, "committed")
    drafts.generation.launch = _marked(drafts.generation.launch, "launch")
    drafts.generation.run = _marked_coroutine(drafts.generation.run, "runner")
    ResilientClient.stream_chat = _marked(ResilientClient.stream_chat, "client")


install()


def _kind(path: str) -> str:
    return "generate" if path.endswith("/generate/") else "events" if "/events/" in path else ""


async def application(scope, receive, send) -> None:
    if scope["type"] != "http":
        return await inner(scope, receive, send)
    if scope["path"] == TRACE_PATH:
        body = json.dumps(marks).encode()
        marks.clear()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
        return None
    kind = _kind(scope["path"])
    if not kind:
        return await inner(scope, receive, send)
    mark(f"{kind} request in")
    first = True

    async def marking_send(message) -> None:
        nonlocal first
        body = message.get("body", b"") if message["type"] == "http.response.body" else b""
        if first and b"event: delta" in body:
            first = False
            mark("first delta sent")
        await send(message)

    return await inner(scope, receive, marking_send)
