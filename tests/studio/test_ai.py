"""The Django adapter: the client built from settings, the breaker on Django's cache, routing,
cost and the pre-flight check as the rest of the studio calls them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import respx
from django.core.cache import cache

from studio import ai
from studio.deepseek import (
    CircuitOpen,
    ContentDelta,
    ContextTooLong,
    Overloaded,
    ResilientClient,
    Route,
    Usage,
)
from tests.conftest import CHAT_URL, sse_body, sse_response

MESSAGES = [{"role": "user", "content": "Hello"}]
MEMORY_CACHE = "django.core.cache.backends.locmem.LocMemCache"
OVERLOADED = httpx.Response(503, json={"error": {"message": "busy", "type": "server_error"}})


@pytest.fixture(autouse=True)
def clean_cache():
    """The breaker lives in the cache: every test starts with it closed."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fast_retries(settings):
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1
    settings.DEEPSEEK_BREAKER_THRESHOLD = 2
    settings.DEEPSEEK_BREAKER_COOLDOWN = 45


@pytest.mark.asyncio
async def test_django_cache_store() -> None:
    store = ai.DjangoCacheStore()
    assert await store.get("k") is None
    await store.set("k", 1.5, ttl=60)
    assert await store.get("k") == 1.5
    assert await store.incr("n", ttl=60) == 1
    assert await store.incr("n", ttl=60) == 2
    await store.delete("n")
    assert await store.incr("n", ttl=60) == 1


def _to_threads(monkeypatch) -> list[object]:
    """What the store hands to a worker thread, recorded (and still run there)."""
    sent: list[object] = []
    to_thread = asyncio.to_thread

    async def recording(func, /, *args, **kwargs):
        sent.append(func)
        return await to_thread(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", recording)
    return sent


@pytest.mark.asyncio
async def test_a_cache_in_memory_is_asked_on_the_loop(settings, monkeypatch) -> None:
    """No network to wait on: no trip to a thread (and back) before a request goes out."""
    settings.CACHES = {**settings.CACHES, "memory": {"BACKEND": MEMORY_CACHE}}
    sent = _to_threads(monkeypatch)
    store = ai.DjangoCacheStore("memory")
    await store.set("k", 2.5, ttl=60)
    assert await store.get("k") == 2.5
    assert await store.incr("n", ttl=60) == 1
    await store.delete("k")
    assert await store.get("k") is None
    assert sent == []


@pytest.mark.asyncio
async def test_a_cache_over_the_network_is_asked_from_a_thread(
    settings, monkeypatch, tmp_path
) -> None:
    """Any other backend (Redis in production) may wait on a round trip: never on the loop."""
    files = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"}
    settings.CACHES = {**settings.CACHES, "files": files | {"LOCATION": str(tmp_path)}}
    sent = _to_threads(monkeypatch)
    store = ai.DjangoCacheStore("files")
    await store.set("k", 2.5, ttl=60)
    assert await store.get("k") == 2.5
    assert len(sent) == 2


@pytest.mark.asyncio
async def test_the_default_cache_is_asked_where_its_backend_needs(settings, monkeypatch) -> None:
    """The breaker's own store: on the loop when the shared cache is this process's memory
    (no Redis configured), from a thread when it is Redis."""
    sent = _to_threads(monkeypatch)
    await ai.DjangoCacheStore().set("k", 1.0, ttl=60)
    in_memory = settings.CACHES["default"]["BACKEND"] == MEMORY_CACHE
    assert len(sent) == (0 if in_memory else 1)


@pytest.mark.asyncio
async def test_get_client_is_the_resilient_client_wired_to_settings(settings) -> None:
    settings.DEEPSEEK_RETRY_ATTEMPTS = 4
    settings.DEEPSEEK_BREAKER_THRESHOLD = 7
    settings.DEEPSEEK_CONTEXT_TOKENS = 5000
    await ai.close_client()
    client = ai.get_client()
    try:
        assert isinstance(client, ResilientClient)
        assert ai.get_client() is client  # one per event loop
        assert client.retry.attempts == 4
        assert client.breaker.threshold == 7
        assert client.breaker.upstream == "https://api.deepseek.test"
        assert isinstance(client.breaker.store, ai.DjangoCacheStore)
        assert client.context_tokens == 5000
    finally:
        await ai.close_client()


def test_a_client_left_by_a_closed_loop_is_let_go_not_closed_from_another(settings) -> None:
    """A task's or a test's loop made the client and kept a connection (an answer read to its
    end goes back to the pool); closing the client from another loop must not touch that
    connection, whose loop is closed: asyncio would raise "Event loop is closed"."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        await reader.readexactly(int(head.split(b"content-length:")[1].split(b"\r\n")[0]))
        body = sse_body(["Hi"])
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        await writer.drain()
        kept.append(writer)  # the connection stays open, past its loop

    kept: list[asyncio.StreamWriter] = []

    async def ask_on_a_loop_of_its_own() -> ResilientClient:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        settings.DEEPSEEK_BASE_URL = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        client = ai.get_client()
        async for _ in client.stream_chat(messages=[{"role": "user", "content": "hi"}], model="m"):
            pass
        assert len(client.client._http._transport._pool.connections) == 1  # kept, idle
        return client

    left = asyncio.run(ask_on_a_loop_of_its_own())  # that loop is closed when it returns
    assert ai._current is not None and ai._current[1] is left

    asyncio.run(ai.close_client())

    assert ai._current is None


@pytest.mark.asyncio
@respx.mock
async def test_stream_chat_keeps_the_runner_interface() -> None:
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Hi ", "there"])))
    client = ai.build_client()
    async with client:
        events = [
            e
            async for e in client.stream_chat(
                messages=MESSAGES,
                model="deepseek-flash",
                max_tokens=50,
                temperature=1.5,
                thinking=False,
            )
        ]
    assert [e for e in events if isinstance(e, ContentDelta)] == [
        ContentDelta("Hi "),
        ContentDelta("there"),
    ]


@pytest.mark.asyncio
@respx.mock
async def test_on_request_calls_back_in_the_task_that_set_it_only() -> None:
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Hi"])))
    calls: list[str] = []

    async def stream(name: str | None) -> None:
        if name:
            ai.on_request(lambda: calls.append(name))
        async for _ in client.stream_chat(messages=MESSAGES, model="deepseek-flash"):
            pass

    client = ai.build_client()
    async with client:
        await asyncio.gather(asyncio.create_task(stream("a")), asyncio.create_task(stream(None)))
        await asyncio.create_task(stream("b"))

    assert calls == ["a", "b"] and respx.calls.call_count == 3


@pytest.mark.asyncio
@respx.mock
async def test_breaker_state_is_shared_through_the_cache(fast_retries) -> None:
    """Two clients (two workers) see one breaker because its state is in Django's cache."""
    route = respx.post(CHAT_URL).mock(return_value=OVERLOADED)
    async with ai.build_client() as worker_a, ai.build_client() as worker_b:
        for worker in (worker_a, worker_b):
            with pytest.raises(Overloaded):
                async for _ in worker.stream_chat(messages=MESSAGES, model="deepseek-flash"):
                    pass
        with pytest.raises(CircuitOpen) as info:
            async for _ in worker_a.stream_chat(messages=MESSAGES, model="deepseek-flash"):
                pass
    assert route.call_count == 2
    assert "in about 45 seconds" in info.value.user_message
    snapshot = await ai.breaker_state()
    assert snapshot.state == "open"


def test_route_for_follows_settings(settings) -> None:
    settings.DEEPSEEK_MODEL = "fast-one"
    settings.DEEPSEEK_REASONING_MODEL = "deep-one"
    settings.DEEPSEEK_REASONING_EFFORT = "max"
    assert ai.route_for("copy") == Route("fast-one", thinking=False, temperature=1.5)
    assert ai.route_for("docs", temperature=0.4) == Route(
        "fast-one", thinking=False, temperature=0.4
    )
    assert ai.route_for("reasoning") == Route("deep-one", thinking=True, reasoning_effort="max")
    assert ai.route_for("email", thinking=True).model == "deep-one"
    assert ai.route_for("ads", model="pinned").model == "pinned"


def test_generation_cost_is_rounded_for_the_cost_field() -> None:
    usage = Usage(prompt_tokens=12, completion_tokens=28, prompt_cache_miss_tokens=12)
    peak = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    # 0.0000372 exactly; Generation.cost keeps six places.
    assert ai.generation_cost("deepseek-flash", usage, peak) == Decimal("0.000037")
    big = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, prompt_cache_hit_tokens=0)
    assert ai.generation_cost("deepseek-v4-pro", big, peak) == Decimal("5.280000")


def test_generation_cost_unknown_model_is_none(caplog) -> None:
    assert ai.generation_cost("mystery", Usage(1, 1), datetime.now(UTC)) is None
    assert "DEEPSEEK_PRICES" in caplog.text


def test_price_overrides_from_settings(settings) -> None:
    settings.DEEPSEEK_PRICES = json.loads('{"sim-model": ["1", "2", "3"]}')
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    saturday = datetime(2026, 11, 28, tzinfo=UTC)
    assert ai.generation_cost("sim-model", usage, saturday) == Decimal("2.5")  # off-peak half
    assert ai.generation_cost("deepseek-flash", usage, saturday) is not None  # defaults kept


def test_check_prompt_uses_the_configured_context(settings) -> None:
    settings.DEEPSEEK_CONTEXT_TOKENS = 100
    assert ai.check_prompt(MESSAGES, model="deepseek-flash", max_tokens=50) == 2 + 4 + 50
    with pytest.raises(ContextTooLong) as info:
        ai.check_prompt(MESSAGES, model="deepseek-flash", max_tokens=200)
    assert "deepseek-flash" in info.value.user_message


@pytest.mark.asyncio
@respx.mock
async def test_provider_status_for_health_checks() -> None:
    respx.get("https://api.deepseek.test/models").mock(
        return_value=httpx.Response(200, json={"object": "list", "data": [{"id": "m1"}]})
    )
    respx.get("https://api.deepseek.test/user/balance").mock(
        return_value=httpx.Response(200, json={"is_available": True, "balance_infos": []})
    )
    try:
        status = await ai.provider_status()
    finally:
        await ai.close_client()
    assert status.as_dict() == {
        "usable": True,
        "reachable": True,
        "models": ["m1"],
        "balance_available": True,
        "breaker": "closed",
        "error": None,
        "latency_ms": status.latency_ms,
    }
