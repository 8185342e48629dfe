"""The fault-injection suite: the real studio (uvicorn, real sockets) against the offline
DeepSeek server's fault modes, with every byte the upstream sent recorded for comparison."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from studio.deepseek.simulator import create_app
from tests.servers import run_asgi

# Counted over the session and printed by tests/conftest.py's terminal summary.
STATS = {"faults": 0, "generations": 0, "lost": 0, "busy": 0}


@dataclass
class Exchange:
    request: bytes = b""
    response: bytearray = field(default_factory=bytearray)


class RecordingUpstream:
    """The simulator, wrapped so the test knows exactly which text it sent per request."""

    def __init__(self, app) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
            await self.app(scope, receive, send)
            return
        exchange = Exchange()
        self.exchanges.append(exchange)

        async def recording_receive():
            message = await receive()
            if message["type"] == "http.request":
                exchange.request += message.get("body", b"")
            return message

        async def recording_send(message) -> None:
            if message["type"] == "http.response.body":
                exchange.response.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, recording_receive, recording_send)

    def sent_text(self, marker: str) -> str:
        """The answer text the upstream sent for the last request mentioning ``marker``,
        up to (not including) any chunk a client could not parse."""
        return "".join(self.sent_pieces(marker))

    def sent_pieces(self, marker: str) -> list[str]:
        """``sent_text`` chunk by chunk (the role chunk's empty content first)."""
        exchange = [e for e in self.exchanges if marker.encode() in e.request][-1]
        pieces = []
        for line in exchange.response.decode("utf-8", "replace").splitlines():
            if not line.startswith("data: {"):
                continue
            try:
                chunk = json.loads(line[6:])
            except json.JSONDecodeError:
                break
            for choice in chunk.get("choices", []):
                pieces.append(choice.get("delta", {}).get("content") or "")
        return pieces


@pytest.fixture
def upstream() -> Iterator[tuple[str, RecordingUpstream]]:
    recorder = RecordingUpstream(
        create_app(tokens_per_second=400, first_token_delay=0.05, keepalive_interval=0.02)
    )
    with run_asgi(recorder, lifespan="off") as url:
        yield url, recorder


@pytest.fixture
def studio(transactional_db, settings, upstream) -> Iterator[str]:
    url, _ = upstream
    settings.DEEPSEEK_BASE_URL = url
    settings.DEEPSEEK_FIRST_TOKEN_TIMEOUT = 1.0
    settings.DEEPSEEK_IDLE_TIMEOUT = 0.5
    settings.GENERATION_PERSIST_INTERVAL = 0.1
    from studio.asgi import application

    with run_asgi(application) as base:
        yield base


@dataclass
class Frame:
    event: str
    data: str
    id: int | None


@dataclass
class StudioSession:
    """A logged-in browser-like client of the studio over real HTTP."""

    base: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=30)

    def log_in(self, username: str, password: str) -> None:
        page = self.http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        assert response.status_code == 302, response.text

    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.http.cookies["csrftoken"], "HX-Request": "true"}

    def generate(self, workspace_id: int, version_id: int, inputs: dict[str, str]) -> int:
        response = self.http.post(
            f"/w/{workspace_id}/generate/",
            data={"version": version_id, **inputs},
            headers=self.headers(),
        )
        assert response.status_code == 200, response.text
        return int(re.search(r"/generations/(\d+)/events/", response.text).group(1))

    def stop(self, generation_id: int) -> None:
        response = self.http.post(f"/generations/{generation_id}/cancel/", headers=self.headers())
        assert response.status_code == 204

    def events(
        self, generation_id: int, *, last_event_id: int | None = None, limit: int | None = None
    ) -> list[Frame]:
        """Watch the SSE stream until "done" (or ``limit`` delta frames, then hang up)."""
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        frames: list[Frame] = []
        with self.http.stream(
            "GET", f"/generations/{generation_id}/events/", headers=headers
        ) as response:
            assert response.headers["content-type"] == "text/event-stream"
            block: list[str] = []
            for line in response.iter_lines():
                if line:
                    block.append(line)
                    continue
                frame = parse_frame(block)
                block = []
                if frame is None:
                    continue
                frames.append(frame)
                if frame.event == "done":
                    break
                if limit is not None and sum(f.event == "delta" for f in frames) >= limit:
                    break
        return frames


def parse_frame(lines: list[str]) -> Frame | None:
    event, data, ident = "message", [], None
    for line in lines:
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            ident = int(value)
    return Frame(event, "\n".join(data), ident) if data else None


def appended_text(frames: list[Frame]) -> str:
    """What the browser's #stream-text holds after these frames (unescaped)."""
    from html import unescape

    return "".join(unescape(f.data) for f in frames if f.event == "delta")
