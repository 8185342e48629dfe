"""Retries before the first token, the shared circuit breaker, and pre-flight refusals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from studio.deepseek import (
    BadRequest,
    CircuitBreaker,
    CircuitOpen,
    ContentDelta,
    ContextTooLong,
    DeepSeekClient,
    DeepSeekError,
    Finish,
    InsufficientBalance,
    JsonPromptRequired,
    MemoryStore,
    Overloaded,
    RateLimited,
    ReasoningDelta,
    ResilientClient,
    RetryPolicy,
    StreamTruncated,
    Timeouts,
    UnknownModel,
    Usage,
)

from .conftest import BASE_URL
from .test_client import (
    DONE,
    MESSAGES,
    USAGE,
    FakeStream,
    chunk,
    envelope,
    error_response,
    stream_response,
)


class Clock:
    """A hand-driven wall clock for the breaker and its store."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Records the backoff waits instead of sleeping them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def ok_stream(*texts: str) -> FakeStream:
    parts = [chunk({"role": "assistant", "content": ""})]
    parts += [chunk({"content": t}) for t in texts]
    parts += [chunk({"content": ""}, "stop", usage=USAGE), DONE]
    return FakeStream(*parts)


def overloaded() -> httpx.Response:
    return error_response(503, envelope("Server overloaded", "server_error"), {})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(clock=clock)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest_asyncio.fixture
async def raw() -> AsyncIterator[DeepSeekClient]:
    async with DeepSeekClient(base_url=BASE_URL, api_key="sk-test") as c:
        yield c


def resilient(
    raw: DeepSeekClient,
    store: MemoryStore | None = None,
    clock: Clock | None = None,
    sleeps: Sleeps | None = None,
    **kwargs: Any,
) -> ResilientClient:
    breaker = None
    if store is not None:
        breaker = CircuitBreaker(store, BASE_URL, threshold=3, cooldown=30, clock=clock or Clock())
    kwargs.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.5, max_delay=8, budget=30))
    return ResilientClient(
        raw, breaker=breaker, sleep=sleeps or Sleeps(), rng=random.Random(1), **kwargs
    )


async def collect(client: ResilientClient, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("messages", MESSAGES)
    kwargs.setdefault("model", "deepseek-flash")
    return [event async for event in client.stream_chat(**kwargs)]


# --- retries -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_retry_then_success(api, raw, sleeps) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[overloaded(), overloaded(), stream_response(ok_stream("Hello", " there"))]
    )
    events = await collect(resilient(raw, sleeps=sleeps), thinking=False, temperature=1.5)
    assert events == [
        ContentDelta("Hello"),
        ContentDelta(" there"),
        Usage.from_api(USAGE),
        Finish("stop"),
    ]
    assert route.call_count == 3
    # The same request every time.
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert bodies[0] == bodies[1] == bodies[2]
    # Exponential backoff with equal jitter: retry n waits in [d/2, d], d = 0.5 * 2**(n-1).
    assert len(sleeps.delays) == 2
    assert 0.25 <= sleeps.delays[0] <= 0.5
    assert 0.5 <= sleeps.delays[1] <= 1.0


@pytest.mark.asyncio
async def test_retry_after_is_a_floor_for_the_wait(api, raw, sleeps) -> None:
    limited = error_response(429, envelope("Rate Limit Reached"), {"Retry-After": "4"})
    api.post("/chat/completions").mock(side_effect=[limited, stream_response(ok_stream("ok"))])
    events = await collect(resilient(raw, sleeps=sleeps))
    assert events[0] == ContentDelta("ok")
    assert sleeps.delays == [4.0]


@pytest.mark.asyncio
async def test_attempts_are_bounded(api, raw, sleeps) -> None:
    route = api.post("/chat/completions").mock(side_effect=lambda request: overloaded())
    with pytest.raises(Overloaded):
        await collect(resilient(raw, sleeps=sleeps))
    assert route.call_count == 3
    assert len(sleeps.delays) == 2


@pytest.mark.asyncio
async def test_no_retry_when_the_wait_would_exceed_the_budget(api, raw, sleeps) -> None:
    limited = error_response(429, envelope("Rate Limit Reached"), {"Retry-After": "120"})
    route = api.post("/chat/completions").mock(return_value=limited)
    with pytest.raises(RateLimited) as info:
        await collect(resilient(raw, sleeps=sleeps))
    assert route.call_count == 1
    assert sleeps.delays == []
    assert info.value.retry_after == 120


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "response",
    [
        error_response(402, envelope("Insufficient Balance"), {}),
        error_response(400, {"detail": "Content Exists Risk"}, {}),
        error_response(401, envelope("Authentication Fails"), {}),
    ],
    ids=["402", "400-risk", "401"],
)
async def test_errors_that_would_fail_again_are_not_retried(api, raw, sleeps, response) -> None:
    route = api.post("/chat/completions").mock(return_value=response)
    with pytest.raises(DeepSeekError) as info:
        await collect(resilient(raw, sleeps=sleeps))
    assert not info.value.retryable
    assert route.call_count == 1
    assert sleeps.delays == []


@pytest.mark.asyncio
async def test_no_retry_after_the_first_token_so_text_is_never_duplicated(api, raw, sleeps) -> None:
    cut = FakeStream(
        chunk({"content": None, "reasoning_content": "Thinking"}),
        chunk({"content": "Partial"}),
        error=httpx.ReadError("connection reset"),
    )
    route = api.post("/chat/completions").mock(
        side_effect=[stream_response(cut), stream_response(ok_stream("Again"))]
    )
    seen: list[Any] = []
    with pytest.raises(StreamTruncated):
        async for event in resilient(raw, sleeps=sleeps).stream_chat(messages=MESSAGES, model="m"):
            seen.append(event)
    assert seen == [ReasoningDelta("Thinking"), ContentDelta("Partial")]
    assert route.call_count == 1
    assert sleeps.delays == []


@pytest.mark.asyncio
async def test_a_cut_before_any_text_is_retried(api, raw, sleeps) -> None:
    """Only the role chunk had arrived: nothing reached the caller, so a retry is safe."""
    cut = FakeStream(chunk({"role": "assistant", "content": ""}))
    route = api.post("/chat/completions").mock(
        side_effect=[stream_response(cut), stream_response(ok_stream("Whole"))]
    )
    events = await collect(resilient(raw, sleeps=sleeps))
    assert [e for e in events if isinstance(e, ContentDelta)] == [ContentDelta("Whole")]
    assert route.call_count == 2


@pytest.mark.asyncio
async def test_first_token_timeout_is_retried(api, sleeps) -> None:
    slow = FakeStream(chunk({"role": "assistant", "content": ""}), hang=True)
    route = api.post("/chat/completions").mock(
        side_effect=[stream_response(slow), stream_response(ok_stream("Late"))]
    )
    timeouts = Timeouts(first_token=0.05, idle=5, total=5)
    async with DeepSeekClient(base_url=BASE_URL, api_key="k", timeouts=timeouts) as raw:
        events = await collect(resilient(raw, sleeps=sleeps))
    assert events[0] == ContentDelta("Late")
    assert route.call_count == 2
    assert slow.closed


@pytest.mark.asyncio
async def test_non_streaming_chat_is_retried(api, raw, sleeps) -> None:
    body = {"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]}
    route = api.post("/chat/completions").mock(
        side_effect=[overloaded(), httpx.Response(200, json=body)]
    )
    result = await resilient(raw, sleeps=sleeps).chat(messages=MESSAGES, model="m")
    assert result.content == "Hi"
    assert route.call_count == 2


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=4)
    rng = random.Random(3)
    error = Overloaded("x")
    for retry, ceiling in [(1, 1), (2, 2), (3, 4), (4, 4), (10, 4)]:
        delays = [policy.delay(retry, error, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered, not synchronized across workers


# --- cancellation --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_cancelling_the_consumer_closes_the_upstream_response(api, raw) -> None:
    stream = FakeStream(chunk({"content": "first"}), hang=True)
    api.post("/chat/completions").mock(return_value=stream_response(stream))
    client = resilient(raw)
    got_first = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream_chat(messages=MESSAGES, model="m"):
            got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.closed


@pytest.mark.asyncio
async def test_breaking_out_closes_the_upstream_response(api, raw) -> None:
    stream = FakeStream(chunk({"content": "first"}), hang=True)
    api.post("/chat/completions").mock(return_value=stream_response(stream))
    events = resilient(raw).stream_chat(messages=MESSAGES, model="m")
    async with contextlib.aclosing(events):
        async for event in events:
            assert event == ContentDelta("first")
            break
    assert stream.closed


# --- circuit breaker -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_breaker_opens_after_consecutive_failures_and_fails_fast(
    api, raw, store, clock
) -> None:
    route = api.post("/chat/completions").mock(side_effect=lambda request: overloaded())
    client = resilient(raw, store, clock, retry=RetryPolicy(attempts=1))
    for _ in range(3):
        with pytest.raises(Overloaded):
            await collect(client)
    assert (await client.breaker.snapshot()).state == "open"

    with pytest.raises(CircuitOpen) as info:
        await collect(client)
    assert route.call_count == 3  # refused without a request
    assert info.value.retry_after == pytest.approx(30)
    assert "unavailable" in info.value.user_message
    assert "in about 30 seconds" in info.value.user_message
    assert not info.value.retryable


@pytest.mark.asyncio
async def test_breaker_half_open_probe_success_closes_it(api, raw, store, clock) -> None:
    api.post("/chat/completions").mock(
        side_effect=[overloaded()] * 3 + [stream_response(ok_stream("Back"))]
    )
    client = resilient(raw, store, clock, retry=RetryPolicy(attempts=1))
    for _ in range(3):
        with pytest.raises(Overloaded):
            await collect(client)
    clock.now += 31
    assert (await client.breaker.snapshot()).state == "half_open"
    events = await collect(client)
    assert events[0] == ContentDelta("Back")
    snapshot = await client.breaker.snapshot()
    assert (snapshot.state, snapshot.failures) == ("closed", 0)


@pytest.mark.asyncio
async def test_breaker_half_open_probe_failure_reopens_it(api, raw, store, clock) -> None:
    route = api.post("/chat/completions").mock(side_effect=lambda request: overloaded())
    client = resilient(raw, store, clock, retry=RetryPolicy(attempts=1))
    for _ in range(3):
        with pytest.raises(Overloaded):
            await collect(client)
    clock.now += 31
    with pytest.raises(Overloaded):
        await collect(client)  # the trial request
    assert route.call_count == 4
    snapshot = await client.breaker.snapshot()
    assert snapshot.state == "open"
    assert snapshot.retry_in == pytest.approx(30)


class Recording(MemoryStore):
    """A memory store that lists what the breaker asked of it, in order."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock=clock)
        self.asked: list[str] = []

    async def get(self, key: str) -> Any:
        self.asked.append(f"get {key.rsplit(':', 1)[-1]}")
        return await super().get(key)

    async def incr(self, key: str, ttl: float) -> int:
        self.asked.append(f"incr {key.rsplit(':', 1)[-1]}")
        return await super().incr(key, ttl)

    async def delete(self, key: str) -> None:
        self.asked.append(f"delete {key.rsplit(':', 1)[-1]}")
        await super().delete(key)


@pytest.mark.asyncio
async def test_the_first_text_reaches_the_caller_before_the_breaker_hears_of_it(
    api, raw, clock
) -> None:
    """The success is recorded after the caller has the first text, and before the stream
    reads on: a failure later in the same stream is counted after it, as one failure."""
    store = Recording(clock)
    cut = FakeStream(chunk({"content": "first"}), error=httpx.ReadError("connection reset"))
    api.post("/chat/completions").mock(return_value=stream_response(cut))
    client = resilient(raw, store, clock)
    events = client.stream_chat(messages=MESSAGES, model="m")
    async with contextlib.aclosing(events):
        assert await anext(events) == ContentDelta("first")
        assert store.asked == ["get open_until"]  # the acquire's look, nothing recorded yet
        with pytest.raises(StreamTruncated):
            await anext(events)
    assert store.asked == ["get open_until", "delete failures", "incr failures"]
    assert (await client.breaker.snapshot()).failures == 1


@pytest.mark.asyncio
async def test_a_trial_closed_at_its_first_text_closes_the_breaker(api, raw, clock) -> None:
    """The caller went away with the first text in hand: the upstream answered all the same."""
    store = Recording(clock)
    api.post("/chat/completions").mock(
        side_effect=[overloaded()] * 3
        + [stream_response(FakeStream(chunk({"content": "Back"}), hang=True))]
    )
    client = resilient(raw, store, clock, retry=RetryPolicy(attempts=1))
    for _ in range(3):
        with pytest.raises(Overloaded):
            await collect(client)
    clock.now += 31
    events = client.stream_chat(messages=MESSAGES, model="m")
    async with contextlib.aclosing(events):
        assert await anext(events) == ContentDelta("Back")
    snapshot = await client.breaker.snapshot()
    assert (snapshot.state, snapshot.failures) == ("closed", 0)


@pytest.mark.asyncio
async def test_half_open_lets_one_trial_through_at_a_time(api, raw, store, clock) -> None:
    breaker = CircuitBreaker(store, BASE_URL, threshold=1, cooldown=10, clock=clock)
    await breaker.failure()
    clock.now += 11
    trial = await breaker.acquire()
    assert trial.probe
    with pytest.raises(CircuitOpen):
        await breaker.acquire()  # another worker while the trial runs
    await breaker.release(trial)  # the trial's caller went away without an answer
    assert (await breaker.acquire()).probe


@pytest.mark.asyncio
async def test_breaker_state_is_shared_by_clients_on_one_store(api, store, clock) -> None:
    """Two workers: failures seen by one open the breaker for the other."""
    route = api.post("/chat/completions").mock(side_effect=lambda request: overloaded())
    async with (
        DeepSeekClient(base_url=BASE_URL, api_key="k") as raw_a,
        DeepSeekClient(base_url=BASE_URL, api_key="k") as raw_b,
    ):
        worker_a = resilient(raw_a, store, clock, retry=RetryPolicy(attempts=1))
        worker_b = resilient(raw_b, store, clock, retry=RetryPolicy(attempts=1))
        for worker in (worker_a, worker_b, worker_a):
            with pytest.raises(Overloaded):
                await collect(worker)
        with pytest.raises(CircuitOpen):
            await collect(worker_b)
        assert route.call_count == 3

        route.mock(side_effect=lambda request: stream_response(ok_stream("ok")))
        clock.now += 31
        await collect(worker_b)  # B's trial succeeds...
        assert (await worker_a.breaker.snapshot()).state == "closed"  # ...and A sees it
        await collect(worker_a)


@pytest.mark.asyncio
async def test_a_success_resets_the_consecutive_count(api, raw, store, clock) -> None:
    api.post("/chat/completions").mock(
        side_effect=[overloaded(), overloaded(), stream_response(ok_stream("ok"))]
        + [overloaded(), overloaded()]
    )
    client = resilient(raw, store, clock, retry=RetryPolicy(attempts=1))
    for _ in range(2):
        with pytest.raises(Overloaded):
            await collect(client)
    await collect(client)
    for _ in range(2):
        with pytest.raises(Overloaded):
            await collect(client)
    assert (await client.breaker.snapshot()).state == "closed"


@pytest.mark.asyncio
async def test_request_errors_do_not_trip_the_breaker(api, raw, store, clock) -> None:
    api.post("/chat/completions").mock(
        side_effect=lambda request: error_response(402, envelope("Insufficient Balance"), {})
    )
    client = resilient(raw, store, clock)
    for _ in range(5):
        with pytest.raises(InsufficientBalance):
            await collect(client)
    assert (await client.breaker.snapshot()).state == "closed"


@pytest.mark.asyncio
async def test_retries_count_towards_the_breaker(api, raw, store, clock, sleeps) -> None:
    route = api.post("/chat/completions").mock(side_effect=lambda request: overloaded())
    client = resilient(raw, store, clock, sleeps, retry=RetryPolicy(attempts=5))
    with pytest.raises(CircuitOpen):
        await collect(client)
    assert route.call_count == 3  # the third failure opened it; the fourth try was refused


class BrokenStore(MemoryStore):
    async def get(self, key: str) -> Any:
        raise ConnectionError("redis is down")

    async def incr(self, key: str, ttl: float) -> int:
        raise ConnectionError("redis is down")

    async def delete(self, key: str) -> None:
        raise ConnectionError("redis is down")


@pytest.mark.asyncio
async def test_a_broken_store_lets_requests_through(api, raw, clock) -> None:
    api.post("/chat/completions").mock(return_value=stream_response(ok_stream("ok")))
    events = await collect(resilient(raw, BrokenStore(), clock))
    assert events[0] == ContentDelta("ok")


@pytest.mark.asyncio
async def test_memory_store_expiry(clock) -> None:
    store = MemoryStore(clock=clock)
    assert await store.incr("n", ttl=10) == 1
    assert await store.incr("n", ttl=10) == 2
    await store.set("k", "v", ttl=5)
    clock.now += 6
    assert await store.get("k") is None
    assert await store.get("n") == 2
    clock.now += 5
    assert await store.incr("n", ttl=10) == 1  # expired, starts again


# --- pre-flight and model errors -----------------------------------------------------------


@pytest.mark.asyncio
async def test_prompt_over_the_context_is_refused_before_any_call(api, raw) -> None:
    route = api.post("/chat/completions")
    client = resilient(raw, context_tokens=1000)
    messages = [{"role": "user", "content": "word " * 1000}]  # ~1500 tokens
    with pytest.raises(ContextTooLong) as info:
        await collect(client, messages=messages)
    assert not route.called
    assert info.value.limit == 1000
    assert "Shorten" in info.value.user_message


@pytest.mark.asyncio
async def test_max_tokens_counts_against_the_context(api, raw) -> None:
    route = api.post("/chat/completions")
    client = resilient(raw, context_tokens=1000)
    with pytest.raises(ContextTooLong) as info:
        await collect(client, max_tokens=999)
    assert not route.called
    assert "answer length" in info.value.user_message


@pytest.mark.asyncio
async def test_json_mode_is_checked_before_the_breaker_or_network(api, raw, store) -> None:
    route = api.post("/chat/completions")
    with pytest.raises(JsonPromptRequired):
        await collect(resilient(raw, store), response_format="json_object")
    assert not route.called


def _model_refused_with_two_listed(api) -> None:
    """DeepSeek answers "Model Not Exist" and lists deepseek-flash and deepseek-v4-pro."""
    api.post("/chat/completions").mock(
        return_value=error_response(400, envelope("Model Not Exist"), {})
    )
    models = {"object": "list", "data": [{"id": "deepseek-flash"}, {"id": "deepseek-v4-pro"}]}
    api.get("/models").mock(return_value=httpx.Response(200, json=models))


@pytest.mark.asyncio
async def test_unknown_model_names_the_available_ones(api, raw, sleeps) -> None:
    _model_refused_with_two_listed(api)
    with pytest.raises(UnknownModel) as info:
        await collect(resilient(raw, sleeps=sleeps), model="deepseek-chat")
    assert info.value.available == ["deepseek-flash", "deepseek-v4-pro"]
    message = info.value.user_message
    assert "deepseek-chat" in message and "deepseek-flash, deepseek-v4-pro" in message
    assert sleeps.delays == []


@pytest.mark.asyncio
async def test_a_refused_model_is_never_offered_as_usable(api, raw, sleeps) -> None:
    """DeepSeek may list a model its chat endpoint refuses: the advice must not send the
    editor back to the model that just failed."""
    _model_refused_with_two_listed(api)
    with pytest.raises(UnknownModel) as info:
        await collect(resilient(raw, sleeps=sleeps), model="deepseek-flash")
    assert info.value.available == ["deepseek-v4-pro"]
    message = info.value.user_message
    assert "refused the model \u201cdeepseek-flash\u201d" in message
    assert message.count("deepseek-flash") == 1 and "can use: deepseek-v4-pro." in message


@pytest.mark.asyncio
async def test_unknown_model_falls_back_when_models_cannot_be_listed(api, raw) -> None:
    api.post("/chat/completions").mock(
        return_value=error_response(400, envelope("Model Not Exist"), {})
    )
    api.get("/models").mock(return_value=overloaded())
    with pytest.raises(BadRequest) as info:
        await collect(resilient(raw), model="deepseek-chat")
    assert not isinstance(info.value, UnknownModel)
    assert "DEEPSEEK_MODEL" in info.value.user_message


@pytest.mark.asyncio
async def test_timeouts_pass_through(raw) -> None:
    assert resilient(raw).timeouts is raw.timeouts


@pytest.mark.asyncio
async def test_a_fresh_closed_breaker_is_not_asked_again_until_it_goes_stale(clock) -> None:
    """``fresh_for``: a closed breaker is read from the store once a second at most, and a
    success resets the failure count once a second at most; another worker's trip is seen
    once the closed state read here has gone stale."""
    store = Recording(clock)
    here = CircuitBreaker(store, BASE_URL, threshold=2, cooldown=30, clock=clock, fresh_for=1)
    elsewhere = CircuitBreaker(store, BASE_URL, threshold=2, cooldown=30, clock=clock)

    for _ in range(3):
        await here.success(await here.acquire())
    assert store.asked == ["get open_until", "delete failures"]

    await elsewhere.trip()
    store.asked.clear()
    clock.now += 0.5
    await here.acquire()  # still fresh: the other worker's trip is not seen yet
    clock.now += 0.6
    with pytest.raises(CircuitOpen):
        await here.acquire()
    assert store.asked == ["get open_until"]


@pytest.mark.asyncio
async def test_a_fresh_breaker_hears_of_its_own_failures_at_once(clock) -> None:
    """A failure here drops what this worker trusted: its next request reads the store, and
    its next success resets the count, however soon."""
    store = Recording(clock)
    breaker = CircuitBreaker(store, BASE_URL, threshold=2, cooldown=30, clock=clock, fresh_for=60)
    await breaker.success(await breaker.acquire())

    await breaker.failure(await breaker.acquire())  # fresh: not read again
    await breaker.success(await breaker.acquire())  # read again; the count reset again
    assert (await breaker.snapshot()).failures == 0
    await breaker.failure(await breaker.acquire())
    await breaker.failure(await breaker.acquire())  # two in a row: it opens
    with pytest.raises(CircuitOpen):
        await breaker.acquire()
    assert store.asked[:6] == [
        "get open_until",
        "delete failures",
        "incr failures",
        "get open_until",
        "delete failures",
        "get open_until",  # the snapshot's
    ]
