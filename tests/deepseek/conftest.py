"""Shared helpers for the DeepSeek client and simulator tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx

from studio.deepseek import DeepSeekClient

BASE_URL = "https://api.deepseek.test"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """A respx router for the fake DeepSeek base URL."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest_asyncio.fixture
async def client() -> AsyncIterator[DeepSeekClient]:
    """A client pointed at the respx-mocked base URL."""
    async with DeepSeekClient(base_url=BASE_URL, api_key="sk-test") as c:
        yield c


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Run an ASGI app in a task and hand its body to httpx chunk by chunk.

    ``httpx.ASGITransport`` collects the whole body before returning the response, which hides
    timing (keep-alives, stalls) and never tells the app that the client went away. This one
    streams, and closing the response sends ``http.disconnect`` to the app. ``tasks`` keeps
    every app task so a test can check the app really finished.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tasks: list[asyncio.Task[None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
        started: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        disconnected = asyncio.Event()
        request_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result(message)
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    chunks.put_nowait(message["body"])
                if not message.get("more_body"):
                    chunks.put_nowait(None)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path,
            "query_string": request.url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "server": (request.url.host, request.url.port or 80),
            "client": ("127.0.0.1", 50000),
        }

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            finally:
                if not started.done():
                    started.set_exception(RuntimeError("app sent no response"))
                chunks.put_nowait(None)

        task = asyncio.create_task(run())
        self.tasks.append(task)
        try:
            start = await asyncio.shield(started)
        except BaseException:
            task.cancel()
            raise

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                while (chunk := await chunks.get()) is not None:
                    yield chunk

            async def aclose(self) -> None:
                disconnected.set()
                # Give the app a moment to notice the disconnect on its own (that is what is
                # being tested); cancel it only as a last resort so no task leaks.
                done, _ = await asyncio.wait([task], timeout=2.0)
                if not done:
                    task.cancel()
                with contextlib.suppress(BaseException):
                    await task

        return httpx.Response(start["status"], headers=start.get("headers", []), stream=Body())
