"""The resilient client against the offline simulator over real sockets, one test per fault.

The simulator runs under uvicorn in a thread (tests/servers.py); a small ASGI wrapper counts
the chat requests that reach it and notices when each one ends, so the tests can check
retries on the wire and that a stopped stream really closes the upstream request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from studio.deepseek import (
    CircuitBreaker,
    CircuitOpen,
    ContentDelta,
    DeepSeekClient,
    Finish,
    MemoryStore,
    Overloaded,
    ProtocolError,
    RateLimited,
    ReasoningDelta,
    ResilientClient,
    RetryPolicy,
    StreamTruncated,
    Timeouts,
    UpstreamTimeout,
    Usage,
)
from studio.deepseek.simulator import create_app, tokenize
from tests.servers import run_asgi

PROMPT = "Write a short note about sourdough bread"


class Recorder:
    """Wraps the simulator: counts chat requests and tracks the ones still running."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.chat_requests = 0
        self.running = 0
        self.idle = threading.Event()
        self.idle.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        is_chat = scope["type"] == "http" and scope["path"].endswith("/chat/completions")
        if is_chat:
            self.chat_requests += 1
            self.running += 1
            self.idle.clear()
        try:
            await self.app(scope, receive, send)
        finally:
            if is_chat:
                self.running -= 1
                if not self.running:
                    self.idle.set()


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    app = Recorder(
        create_app(tokens_per_second=2000, first_token_delay=0.02, keepalive_interval=0.01, seed=3)
    )
    with run_asgi(app, lifespan="off") as url:
        yield url, app


@pytest.fixture
def recorder(server) -> Recorder:
    return server[1]


def make_client(url: str, timeouts: Timeouts, **kwargs: Any) -> ResilientClient:
    kwargs.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, budget=5))
    breaker = CircuitBreaker(MemoryStore(), url, threshold=3, cooldown=60)
    raw = DeepSeekClient(base_url=url, api_key="sk-sim", timeouts=timeouts)
    return ResilientClient(raw, breaker=breaker, **kwargs)


@pytest_asyncio.fixture
async def client(server) -> AsyncIterator[ResilientClient]:
    timeouts = Timeouts(connect=2, first_token=2, idle=0.3, total=10)
    async with make_client(server[0], timeouts) as c:
        yield c


async def run(client: ResilientClient, directives: str, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("model", "deepseek-flash")
    kwargs.setdefault("thinking", False)
    messages = [{"role": "user", "content": f"{PROMPT} {directives}"}]
    return [event async for event in client.stream_chat(messages=messages, **kwargs)]


async def run_until_error(client: ResilientClient, directives: str) -> tuple[list[Any], Any]:
    seen: list[Any] = []
    messages = [{"role": "user", "content": f"{PROMPT} {directives}"}]
    try:
        async for event in client.stream_chat(
            messages=messages, model="deepseek-flash", thinking=False
        ):
            seen.append(event)
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return seen, exc
    return seen, None


def text(events: list[Any], kind: type = ContentDelta) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


@pytest.mark.asyncio
async def test_plain_stream_over_sockets(client, recorder) -> None:
    events = await run(client, "[[sim:tokens=30]]")
    assert len(tokenize(text(events))) == 30
    assert isinstance(events[-2], Usage) and events[-1] == Finish("stop")
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_429_with_retry_after_is_retried_after_waiting(client, recorder) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await run(client, "[[sim:error=429]][[sim:retry_after=0.3]][[sim:fail_first=1]]")
    assert loop.time() - started >= 0.3
    assert events[-1] == Finish("stop")
    assert recorder.chat_requests == 2


@pytest.mark.asyncio
async def test_429_whose_retry_after_exceeds_the_budget_is_not_retried(client, recorder):
    with pytest.raises(RateLimited) as info:
        await run(client, "[[sim:error=429]][[sim:retry_after=60]]")
    assert info.value.retry_after == 60
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_503_twice_then_success(client, recorder) -> None:
    events = await run(client, "[[sim:error=503]][[sim:fail_first=2]]")
    assert events[-1] == Finish("stop")
    assert recorder.chat_requests == 3


@pytest.mark.asyncio
async def test_persistent_503_opens_the_breaker(client, recorder) -> None:
    with pytest.raises(Overloaded):
        await run(client, "[[sim:error=503]]")
    assert recorder.chat_requests == 3
    with pytest.raises(CircuitOpen) as info:
        await run(client, "[[sim:tokens=5]]")
    assert recorder.chat_requests == 3  # refused at once, nothing sent
    assert "unavailable" in info.value.user_message


@pytest.mark.asyncio
async def test_slow_first_token_times_out_and_is_retried(server, recorder) -> None:
    # The deadline must leave the in-thread server time to accept the retried request even on
    # a loaded CI machine (at 0.2 s the retry sometimes timed out before it reached the server).
    timeouts = Timeouts(connect=2, first_token=1.0, idle=2, total=10)
    async with make_client(
        server[0], timeouts, retry=RetryPolicy(attempts=2, base_delay=0.01)
    ) as c:
        with pytest.raises(UpstreamTimeout) as info:
            await run(c, "[[sim:first_token_delay=30]]")
    assert info.value.kind == "first_token"
    assert recorder.chat_requests == 2
    # Both abandoned requests were closed, so the simulator stopped its queue phase.
    assert await asyncio.to_thread(recorder.idle.wait, 5)


@pytest.mark.asyncio
async def test_slow_first_token_within_the_deadline_succeeds(client, recorder) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await run(client, "[[sim:first_token_delay=0.4]][[sim:tokens=5]]")
    assert loop.time() - started >= 0.4
    assert len(tokenize(text(events))) == 5
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_stall_mid_stream_fails_without_retry_or_duplicate_text(client, recorder) -> None:
    seen, error = await run_until_error(client, "[[sim:stall_after=6]][[sim:tokens=40]]")
    assert isinstance(error, UpstreamTimeout) and error.kind == "idle"
    assert len(tokenize(text(seen))) == 6
    assert recorder.chat_requests == 1
    assert await asyncio.to_thread(recorder.idle.wait, 5)  # the stalled request was closed


@pytest.mark.asyncio
async def test_cut_connection_mid_stream_is_truncated_not_retried(client, recorder) -> None:
    seen, error = await run_until_error(client, "[[sim:cut_after=7]][[sim:tokens=40]]")
    assert isinstance(error, StreamTruncated)
    assert len(tokenize(text(seen))) == 7
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_malformed_chunk_is_a_protocol_error(client, recorder) -> None:
    seen, error = await run_until_error(client, "[[sim:malformed_after=4]][[sim:tokens=40]]")
    assert isinstance(error, ProtocolError)
    assert len(tokenize(text(seen))) == 4
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_malformed_chunk_before_any_text_is_not_retried(client, recorder) -> None:
    """Unreadable output is not retryable: the same gateway would garble it again."""
    seen, error = await run_until_error(client, "[[sim:malformed_after=0]]")
    assert isinstance(error, ProtocolError)
    assert seen == []
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_reasoning_model_stream(client, recorder) -> None:
    events = await run(client, "[[sim:reasoning=12]][[sim:tokens=8]]", thinking=True)
    kinds = [type(e) for e in events if isinstance(e, ContentDelta | ReasoningDelta)]
    assert kinds == [ReasoningDelta] * 12 + [ContentDelta] * 8  # thinking first, then answer
    usage = next(e for e in events if isinstance(e, Usage))
    assert (usage.reasoning_tokens, usage.completion_tokens) == (12, 20)


@pytest.mark.asyncio
async def test_keepalives_mid_stream_and_separate_usage_chunk(client, recorder) -> None:
    events = await run(client, "[[sim:keepalive_midstream]][[sim:usage=separate]][[sim:tokens=9]]")
    assert len(tokenize(text(events))) == 9
    assert isinstance(events[-2], Usage) and events[-2].completion_tokens == 9


@pytest.mark.asyncio
async def test_stopping_the_stream_closes_the_upstream_request(server, recorder) -> None:
    timeouts = Timeouts(connect=2, first_token=2, idle=2, total=30)
    async with make_client(server[0], timeouts) as c:
        messages = [{"role": "user", "content": f"{PROMPT} [[sim:stall_after=5]]"}]
        events = c.stream_chat(messages=messages, model="deepseek-flash", thinking=False)
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, ContentDelta):
                    break
        # Closing the stream dropped the connection; the simulator, which would otherwise
        # stall for 60 s after token 5, saw the disconnect and ended the request.
        assert await asyncio.to_thread(recorder.idle.wait, 5)
    assert recorder.chat_requests == 1


@pytest.mark.asyncio
async def test_faults_flag_applies_to_every_request(recorder) -> None:
    app = Recorder(create_app(first_token_delay=0, seed=1, faults="[[sim:error=402]]"))
    with run_asgi(app, lifespan="off") as url:
        async with make_client(url, Timeouts()) as c:
            with pytest.raises(Exception) as info:
                await run(c, "")
    assert type(info.value).__name__ == "InsufficientBalance"
    assert app.chat_requests == 1
