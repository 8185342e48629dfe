"""The offline simulator's server, driven through the real client and checked on the wire."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from studio.deepseek import (
    AuthenticationFailed,
    BadRequest,
    ContentDelta,
    DeepSeekClient,
    Finish,
    InsufficientBalance,
    Overloaded,
    ProtocolError,
    RateLimited,
    ReasoningDelta,
    StreamTruncated,
    Timeouts,
    UpstreamTimeout,
    Usage,
)
from studio.deepseek.simulator import create_app, tokenize
from tests.deepseek.conftest import StreamingASGITransport
from tests.servers import run_asgi

SIM = "http://simulator"
PROMPT = "Write a short blog post about sourdough bread baking at home"


def fast_app(**kwargs: Any) -> Any:
    kwargs = {"tokens_per_second": 10000, "first_token_delay": 0, "seed": 7, **kwargs}
    return create_app(**kwargs)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[DeepSeekClient]:
    """A client talking to the simulator in-process (httpx buffers the body; fine here)."""
    transport = httpx.ASGITransport(app=fast_app())
    async with DeepSeekClient(base_url=SIM, api_key="sk-sim", transport=transport) as client:
        yield client


async def run(client: DeepSeekClient, text: str = PROMPT, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("model", "deepseek-flash")
    messages = [{"role": "user", "content": text}]
    return [event async for event in client.stream_chat(messages=messages, **kwargs)]


def texts(events: list[Any], kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


def usage_of(events: list[Any]) -> Usage:
    return next(e for e in events if isinstance(e, Usage))


@pytest.mark.asyncio
async def test_thinking_stream_by_default(sim) -> None:
    events = await run(sim)
    kinds = [type(e) for e in events]
    first_content = kinds.index(ContentDelta)
    assert ReasoningDelta in kinds[:first_content]
    assert ReasoningDelta not in kinds[first_content:]
    assert events[-2:] == [usage_of(events), Finish("stop")]
    usage = usage_of(events)
    n_reasoning = kinds.count(ReasoningDelta)
    assert usage.reasoning_tokens == n_reasoning
    assert usage.completion_tokens == n_reasoning + kinds.count(ContentDelta)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens == usage.prompt_cache_hit_tokens + usage.prompt_cache_miss_tokens


@pytest.mark.asyncio
async def test_non_thinking_markdown_answer(sim) -> None:
    events = await run(sim, thinking=False)
    assert not any(isinstance(e, ReasoningDelta) for e in events)
    answer = texts(events, ContentDelta)
    assert answer.startswith("## ")
    assert "\n- **" in answer
    assert answer.count("\n\n") >= 3  # heading + several blocks
    assert {"sourdough", "bread", "baking"} & set(re.findall(r"[a-z]+", answer.lower()))
    usage = usage_of(events)
    assert 150 <= usage.completion_tokens <= 300
    assert usage.reasoning_tokens == 0
    assert usage.completion_tokens == len(tokenize(answer))
    assert await run(sim, thinking=False) == events  # deterministic for the same prompt


@pytest.mark.asyncio
async def test_chinese_prompt_gets_chinese_answer(sim) -> None:
    events = await run(sim, "请写一篇关于人工智能在教育中应用的文章", thinking=False)
    answer = texts(events, ContentDelta)
    assert len(re.findall(r"[\u4e00-\u9fff]", answer)) > 100
    assert "人工智能" in answer or "教育" in answer
    assert usage_of(events).completion_tokens == len(tokenize(answer))


@pytest.mark.asyncio
async def test_max_tokens_gives_length_finish(sim) -> None:
    events = await run(sim, max_tokens=30, thinking=False)
    assert events[-1] == Finish("length")
    assert usage_of(events).completion_tokens == 30


@pytest.mark.asyncio
async def test_non_streaming_chat(sim) -> None:
    messages = [{"role": "user", "content": PROMPT}]
    result = await sim.chat(messages=messages, model="deepseek-v4-pro")
    assert result.finish_reason == "stop"
    assert result.content.startswith("## ") and result.reasoning
    assert result.model == "deepseek-v4-pro"
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens


# --- fault directives ----------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "cls", "message"),
    [
        ("400", BadRequest, "maximum context length"),
        ("401", AuthenticationFailed, "Authentication Fails"),
        ("402", InsufficientBalance, "Insufficient Balance"),
        ("422", BadRequest, "invalid type: sequence, expected a string"),
        ("429", RateLimited, "Rate Limit"),
        ("500", Overloaded, "Internal Server Error"),
        ("503", Overloaded, "overloaded"),
    ],
)
async def test_error_directives(sim, code, cls, message) -> None:
    with pytest.raises(cls) as info:
        await run(sim, f"Hello [[sim:error={code}]]")
    assert info.value.status == int(code)
    assert message in info.value.message
    assert info.value.retry_after == (2.0 if code == "429" else None)


@pytest.mark.asyncio
async def test_content_risk_directive(sim) -> None:
    with pytest.raises(BadRequest, match="Content Exists Risk") as info:
        await run(sim, "[[sim:content_risk]] something")
    assert "Rephrase" in info.value.user_message


@pytest.mark.asyncio
async def test_cut_after_directive_truncates(sim) -> None:
    seen: list[Any] = []
    with pytest.raises(StreamTruncated):
        async for event in sim.stream_chat(
            messages=[{"role": "user", "content": "Tell me about rivers [[sim:cut_after=5]]"}],
            model="deepseek-flash",
            thinking=False,
        ):
            seen.append(event)
    assert len(seen) == 5 and all(isinstance(e, ContentDelta) for e in seen)


@pytest.mark.asyncio
async def test_tokens_directive_and_directives_never_leak(sim) -> None:
    events = await run(sim, "Rivers [[sim:tokens=42]] and lakes", thinking=False)
    answer = texts(events, ContentDelta)
    assert len(tokenize(answer)) == 42 == usage_of(events).completion_tokens
    assert "sim:" not in answer and "[[" not in answer


@pytest.mark.asyncio
async def test_usage_separate_directive(sim) -> None:
    events = await run(sim, "Rivers [[sim:usage=separate]] [[sim:tokens=10]]", thinking=False)
    assert events[-1] == Finish("stop")
    assert usage_of(events).completion_tokens == 10
    raw = await raw_stream(
        "Rivers [[sim:usage=separate]] [[sim:tokens=10]]", stream_options={"include_usage": True}
    )
    chunks = data_chunks(raw)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["usage"] is None
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 10


@pytest.mark.asyncio
async def test_whitespace_body_directive(sim) -> None:
    with pytest.raises(ProtocolError):
        await sim.chat(
            messages=[{"role": "user", "content": "x [[sim:whitespace_body]]"}],
            model="deepseek-flash",
        )


@pytest.mark.asyncio
async def test_stall_directive_hits_idle_timeout_and_the_app_sees_the_disconnect() -> None:
    transport = StreamingASGITransport(fast_app(tokens_per_second=1000))
    timeouts = Timeouts(first_token=5, idle=0.1, total=5)
    seen: list[Any] = []
    async with DeepSeekClient(
        base_url=SIM, api_key="k", timeouts=timeouts, transport=transport
    ) as client:
        with pytest.raises(UpstreamTimeout) as info:
            async for event in client.stream_chat(
                messages=[{"role": "user", "content": "Rivers [[sim:stall_after=3]]"}],
                model="deepseek-flash",
                thinking=False,
            ):
                seen.append(event)
    assert info.value.kind == "idle"
    assert len(seen) == 3
    # The simulator stopped stalling because it saw the client leave, not by being cancelled.
    assert transport.tasks[0].done() and not transport.tasks[0].cancelled()


async def release(app: Any) -> None:
    """The tests' control call: let the held streams go on."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        response = await http.post(SIM + "/v1/sim/release")
    assert response.status_code == 200


async def held(events: AsyncIterator[Any]) -> asyncio.Future[Any]:
    """The stream's next event, asserted not to come for 0.2 s (at 1,000 tokens a second)."""
    following = asyncio.ensure_future(anext(events))
    done, _ = await asyncio.wait({following}, timeout=0.2)
    assert not done, "the stream went on"
    return following


def hold_stream(client: DeepSeekClient, text: str) -> AsyncIterator[Any]:
    messages = [{"role": "user", "content": text}]
    return aiter(client.stream_chat(messages=messages, model="deepseek-flash", thinking=False))


@pytest.mark.asyncio
async def test_hold_directive_waits_after_n_tokens_until_released() -> None:
    app = fast_app(tokens_per_second=1000)
    async with DeepSeekClient(
        base_url=SIM, api_key="k", transport=StreamingASGITransport(app)
    ) as client:
        events = hold_stream(client, "Rivers [[sim:hold_after=3]] [[sim:tokens=8]]")
        first = [await anext(events) for _ in range(3)]
        assert [type(e) for e in first] == [ContentDelta] * 3
        following = await held(events)

        await release(app)

        rest = [await following, *[e async for e in events]]
    assert len([e for e in first + rest if isinstance(e, ContentDelta)]) == 8
    assert rest[-1] == Finish("stop")


@pytest.mark.asyncio
async def test_a_release_lets_on_the_streams_begun_before_it_even_if_not_held_yet() -> None:
    app = fast_app(tokens_per_second=1000)
    async with DeepSeekClient(
        base_url=SIM, api_key="k", transport=StreamingASGITransport(app)
    ) as client:
        early = hold_stream(client, "Rivers [[sim:hold_after=5]] [[sim:tokens=8]]")
        assert isinstance(await anext(early), ContentDelta)  # begun, not at its hold yet
        await release(app)
        assert (await aiter_list(early))[-1] == Finish("stop")  # never held

        later = hold_stream(client, "Lakes [[sim:hold_after=2]] [[sim:tokens=4]]")
        assert [type(await anext(later)) for _ in range(2)] == [ContentDelta] * 2
        following = await held(later)  # begun after that release: waits for the next
        await release(app)
        assert isinstance(await following, ContentDelta)
        assert (await aiter_list(later))[-1] == Finish("stop")


async def aiter_list(events: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in events]


@pytest.mark.asyncio
async def test_a_held_stream_whose_client_leaves_ends() -> None:
    transport = StreamingASGITransport(fast_app(tokens_per_second=1000))
    async with DeepSeekClient(base_url=SIM, api_key="k", transport=transport) as client:
        events = hold_stream(client, "Rivers [[sim:hold_after=2]] [[sim:tokens=8]]")
        assert [type(await anext(events)) for _ in range(2)] == [ContentDelta] * 2
        await events.aclose()  # closes the response: the app gets http.disconnect
        await asyncio.wait_for(asyncio.gather(*transport.tasks), 5)
    assert transport.tasks[0].done() and not transport.tasks[0].cancelled()


@pytest.mark.asyncio
async def test_the_release_is_a_post_and_needs_no_key() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fast_app())) as http:
        assert (await http.get(SIM + "/sim/release")).status_code == 405
        assert (await http.post(SIM + "/sim/release")).json() == {"released": True}


@pytest.mark.asyncio
async def test_keepalive_midstream_directive() -> None:
    transport = StreamingASGITransport(fast_app())
    async with DeepSeekClient(base_url=SIM, api_key="k", transport=transport) as client:
        events = await run(
            client, "Rivers [[sim:keepalive_midstream]] [[sim:tokens=8]]", thinking=False
        )
    assert events[-1] == Finish("stop")
    raw = await raw_stream("Rivers [[sim:keepalive_midstream]] [[sim:tokens=8]]")
    first_data = raw.index(b"data: ")
    assert raw.count(b": keep-alive\n\n", first_data) == 7  # between the 8 answer chunks


# --- request validation and other endpoints ------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("model", ["deepseek-chat", "deepseek-reasoner", "gpt-4o"])
async def test_unknown_and_retired_models(sim, model) -> None:
    with pytest.raises(BadRequest, match="Model Not Exist"):
        await run(sim, model=model)


@pytest.mark.asyncio
async def test_content_parts_are_rejected(sim) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
    ]
    with pytest.raises(BadRequest) as info:
        await sim.chat(messages=messages, model="deepseek-flash")
    assert info.value.message == (
        "Failed to deserialize the JSON body into the target type: "
        "messages[1]: invalid type: sequence, expected a string"
    )


@pytest.mark.asyncio
async def test_models_and_balance(sim) -> None:
    assert await sim.list_models() == ["deepseek-flash", "deepseek-v4-pro"]
    balance = await sim.balance()
    assert balance.is_available and str(balance.infos[0]["total_balance"]) == "110.00"


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["", "sk-bad"])
async def test_bad_or_missing_key_is_401(key) -> None:
    transport = httpx.ASGITransport(app=fast_app())
    async with DeepSeekClient(base_url=SIM, api_key=key, transport=transport) as client:
        with pytest.raises(AuthenticationFailed) as info:
            await client.list_models()
    assert "Authentication Fails" in info.value.message


# --- wire format ---------------------------------------------------------------------------


async def raw_stream(text: str, path: str = "/chat/completions", **body: Any) -> bytes:
    body = {
        "model": "sim-test",
        "messages": [{"role": "user", "content": text}],
        "stream": True,
        "thinking": {"type": "disabled"},
        **body,
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fast_app())) as http:
        response = await http.post(SIM + path, json=body, headers={"Authorization": "Bearer k"})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    return response.content


def data_chunks(raw: bytes) -> list[dict[str, Any]]:
    lines = [line for line in raw.decode().split("\n\n") if line.startswith("data: {")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


@pytest.mark.asyncio
async def test_wire_format_without_include_usage() -> None:
    raw = await raw_stream("Rivers [[sim:tokens=5]]", path="/v1/chat/completions")
    assert raw.endswith(b"data: [DONE]\n\n")
    chunks = data_chunks(raw)
    compact = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in chunks]
    assert raw.decode() == "".join(f"data: {c}\n\n" for c in compact) + "data: [DONE]\n\n"
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert chunks[0]["object"] == "chat.completion.chunk"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all("usage" not in c for c in chunks[:-1])
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {"content": ""},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert chunks[-1]["usage"]["completion_tokens"] == 5


@pytest.mark.asyncio
async def test_wire_format_thinking_with_include_usage() -> None:
    raw = await raw_stream(
        "Rivers [[sim:tokens=5]]",
        thinking={"type": "enabled"},
        stream_options={"include_usage": True},
    )
    chunks = data_chunks(raw)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": None, "reasoning_content": ""}
    assert deltas[1]["content"] is None and deltas[1]["reasoning_content"]
    assert deltas[-2]["reasoning_content"] is None and deltas[-2]["content"]
    assert deltas[-1] == {"content": "", "reasoning_content": None}
    assert all(c["usage"] is None for c in chunks[:-1])
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["prompt_cache_hit_tokens"]


@pytest.mark.asyncio
async def test_non_stream_body_starts_with_blank_lines() -> None:
    app = create_app(tokens_per_second=10000, first_token_delay=0.02, keepalive_interval=0.005)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        response = await http.post(
            f"{SIM}/chat/completions",
            json={"model": "deepseek-flash", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer k"},
        )
    assert response.content.startswith(b"\n\n")
    assert json.loads(response.content)["object"] == "chat.completion"


def test_keepalives_on_the_wire_under_uvicorn() -> None:
    """A real server and socket: keep-alive comments precede the first data event."""
    app = create_app(tokens_per_second=2000, first_token_delay=0.05, keepalive_interval=0.01)
    body = {
        "model": "deepseek-flash",
        "stream": True,
        "messages": [{"role": "user", "content": "Rivers [[sim:tokens=20]]"}],
    }
    with (
        run_asgi(app) as base_url,
        httpx.stream(
            "POST",
            f"{base_url}/chat/completions",
            json=body,
            headers={"Authorization": "Bearer k"},
            timeout=10,
        ) as response,
    ):
        raw = b"".join(response.iter_raw())
    head = raw[: raw.index(b"data: ")]
    assert head.startswith(b": keep-alive\n\n") and head.count(b": keep-alive\n\n") >= 3
    assert raw.endswith(b"data: [DONE]\n\n")


@pytest.mark.asyncio
async def test_directives_with_non_ascii_digits_are_not_numbers(sim) -> None:
    """``²`` passes ``isdigit()`` but not ``int()``: an unknown error code, no token count."""
    with pytest.raises(Overloaded) as info:
        await run(sim, "Hello [[sim:error=²]]")
    assert info.value.status == 500
    events = await run(sim, "Rivers [[sim:tokens=²]]", thinking=False)
    assert usage_of(events).completion_tokens > 0
