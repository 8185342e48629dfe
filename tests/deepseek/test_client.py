"""DeepSeekClient against respx-mocked responses shaped like real DeepSeek traffic."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import zlib
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from studio.deepseek import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ContentDelta,
    DeepSeekClient,
    DeepSeekError,
    Finish,
    InsufficientBalance,
    JsonPromptRequired,
    Overloaded,
    ProtocolError,
    RateLimited,
    ReasoningDelta,
    StreamTruncated,
    Timeouts,
    UpstreamTimeout,
    Usage,
    error_from_response,
)

from .conftest import BASE_URL

MESSAGES = [{"role": "user", "content": "Hello"}]
USAGE = {
    "prompt_tokens": 6,
    "completion_tokens": 169,
    "total_tokens": 175,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 117},
    "prompt_cache_hit_tokens": 1,
    "prompt_cache_miss_tokens": 5,
}


def chunk(delta: dict | None, finish: str | None = None, **extra: Any) -> bytes:
    """One SSE event in DeepSeek's compact wire format."""
    obj: dict[str, Any] = {
        "id": "f802c271-0000-4000-8000-000000000000",
        "object": "chat.completion.chunk",
        "created": 1759299469,
        "model": "deepseek-flash",
        "system_fingerprint": "fp_test",
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **extra,
    }
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"


class FakeStream(httpx.AsyncByteStream):
    """A response body that can pause, fail, repeat forever, and records being closed."""

    def __init__(
        self,
        *parts: bytes,
        then: bytes | None = None,
        every: float = 0.01,
        error: Exception | None = None,
        hang: bool = False,
    ) -> None:
        self.parts, self.then, self.every, self.error, self.hang = parts, then, every, error, hang
        self.closed = False

    async def __aiter__(self):  # type: ignore[override]
        for part in self.parts:
            yield part
        if self.error is not None:
            raise self.error
        while self.then is not None:
            await asyncio.sleep(self.every)  # the upstream's own pacing, not a test wait
            yield self.then
        if self.hang:
            await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closed = True


def stream_response(stream: FakeStream) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream; charset=utf-8"}, stream=stream
    )


def mock_stream(api: respx.MockRouter, *parts: bytes, **kwargs: Any) -> FakeStream:
    stream = FakeStream(*parts, **kwargs)
    api.post("/chat/completions").mock(side_effect=lambda request: stream_response(stream))
    return stream


async def collect(client: DeepSeekClient, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("messages", MESSAGES)
    kwargs.setdefault("model", "deepseek-flash")
    return [event async for event in client.stream_chat(**kwargs)]


# --- request shape -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stream_request_body_and_headers(api, client) -> None:
    mock_stream(api, chunk({"content": "Hi"}, "stop"), DONE)
    await collect(client, max_tokens=50, temperature=0.3, thinking=False, extra={"user_id": "u-1"})
    request = api.calls.last.request
    assert request.url == f"{BASE_URL}/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["user-agent"] == "deepseek-studio"
    assert json.loads(request.content) == {
        "model": "deepseek-flash",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 50,
        "temperature": 0.3,
        "thinking": {"type": "disabled"},
        "user_id": "u-1",
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("base", ["", "/", "/v1", "/beta/"])
@pytest.mark.parametrize("stream", [True, False])
async def test_the_chat_request_on_the_wire_is_exact(api, base, stream) -> None:
    """Byte for byte, on any base path (the chat URL is merged with the base once, not per
    request): the URL, every header in order, and the compact JSON body."""
    reply = {"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]}
    route = api.post(f"{BASE_URL}{base.rstrip('/')}/chat/completions")
    route.mock(
        side_effect=lambda request: (
            stream_response(FakeStream(chunk({"content": "Hi"}, "stop")))
            if stream
            else httpx.Response(200, json=reply)
        )
    )
    messages = [{"role": "user", "content": 'Héllo <b> "世界"'}]
    async with DeepSeekClient(base_url=f"{BASE_URL}{base}", api_key="sk-test") as c:
        for _ in range(2):  # the second request is built as the first was
            if stream:
                await collect(c, messages=messages, max_tokens=5, thinking=False)
            else:
                await c.chat(
                    messages=messages, model="deepseek-flash", max_tokens=5, thinking=False
                )
    streaming = (
        '"stream":true,"stream_options":{"include_usage":true}' if stream else '"stream":false'
    )
    body = (
        '{"model":"deepseek-flash",'
        '"messages":[{"role":"user","content":"Héllo <b> \\"世界\\""}],'
        f"{streaming},"
        '"max_tokens":5,"thinking":{"type":"disabled"}}'
    ).encode()
    assert route.call_count == 2
    for call in route.calls:
        request = call.request
        assert str(request.url) == f"{BASE_URL}{base.rstrip('/')}/chat/completions"
        assert request.method == "POST"
        assert request.content == body
        assert request.headers.raw == [
            (b"Host", b"api.deepseek.test"),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"Connection", b"keep-alive"),
            (b"Authorization", b"Bearer sk-test"),
            (b"User-Agent", b"deepseek-studio"),
            (b"Accept", b"application/json, text/event-stream"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Content-Type", b"application/json"),
        ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("thinking", "expected"),
    [
        (True, {"thinking": {"type": "enabled"}}),
        (False, {"thinking": {"type": "disabled"}, "temperature": 0.7}),
    ],
)
async def test_thinking_flag_and_temperature(api, client, thinking, expected) -> None:
    """Thinking mode ignores temperature, so it is not sent then."""
    mock_stream(api, chunk({"content": "Hi"}, "stop"), DONE)
    await collect(client, thinking=thinking, temperature=0.7)
    body = json.loads(api.calls.last.request.content)
    assert {k: body[k] for k in ("thinking", "temperature") if k in body} == expected


@pytest.mark.asyncio
async def test_sampling_stop_and_json_mode_are_sent_with_thinking_off(api, client) -> None:
    mock_stream(api, chunk({"content": "{}"}, "stop"), DONE)
    messages = [{"role": "user", "content": "Answer in JSON with the key title."}]
    await collect(
        client,
        messages=messages,
        thinking=False,
        temperature=1.3,
        top_p=0.9,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        stop=["\n\n", "END"],
        response_format="json_object",
        reasoning_effort="max",
    )
    body = json.loads(api.calls.last.request.content)
    assert {k: v for k, v in body.items() if k not in ("model", "messages", "stream")} == {
        "stream_options": {"include_usage": True},
        "temperature": 1.3,
        "top_p": 0.9,
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
        "stop": ["\n\n", "END"],
        "response_format": {"type": "json_object"},
        "thinking": {"type": "disabled"},
    }


@pytest.mark.asyncio
async def test_on_request_is_awaited_with_each_request_before_it_is_sent(api) -> None:
    seen: list[tuple[str, int]] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append((request.url.path, len(api.calls)))  # calls so far: not yet this one

    mock_stream(api, chunk({"content": "Hi"}, "stop"), DONE)
    async with DeepSeekClient(base_url=BASE_URL, api_key="sk-test", on_request=on_request) as c:
        await collect(c)
        await collect(c)

    assert seen == [("/chat/completions", 0), ("/chat/completions", 1)]


@pytest.mark.asyncio
@pytest.mark.parametrize("thinking", [True, None], ids=["thinking-on", "model-default"])
async def test_thinking_mode_never_gets_sampling_parameters(api, client, thinking) -> None:
    """Thinking ignores temperature/top_p/penalties and rejected logprobs: none is sent."""
    mock_stream(api, chunk({"content": "Hi"}, "stop"), DONE)
    await collect(
        client,
        thinking=thinking,
        temperature=0.7,
        top_p=0.5,
        frequency_penalty=1.0,
        presence_penalty=1.0,
        reasoning_effort="high",
        extra={"logprobs": True, "top_logprobs": 5, "user_id": "u-2"},
    )
    body = json.loads(api.calls.last.request.content)
    for key in ("temperature", "top_p", "frequency_penalty", "presence_penalty", "logprobs"):
        assert key not in body
    assert "top_logprobs" not in body
    assert body["reasoning_effort"] == "high"
    assert body["user_id"] == "u-2"
    assert body.get("thinking") == ({"type": "enabled"} if thinking else None)


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
async def test_json_mode_without_json_in_the_prompt_is_refused_unsent(api, client, stream) -> None:
    route = api.post("/chat/completions")
    with pytest.raises(JsonPromptRequired) as info:
        if stream:
            await collect(client, response_format={"type": "json_object"}, thinking=False)
        else:
            await client.chat(messages=MESSAGES, model="m", response_format="json_object")
    assert not route.called
    assert isinstance(info.value, BadRequest)
    assert "json" in info.value.user_message


@pytest.mark.asyncio
async def test_json_mode_non_streaming_returns_the_json_text(api, client) -> None:
    body = {
        "model": "deepseek-flash",
        "choices": [{"message": {"content": '{"title": "Hi"}'}, "finish_reason": "stop"}],
    }
    api.post("/chat/completions").mock(return_value=httpx.Response(200, json=body))
    messages = [{"role": "system", "content": "Reply in json."}, *MESSAGES]
    result = await client.chat(messages=messages, model="m", response_format="json_object")
    assert json.loads(result.content) == {"title": "Hi"}
    sent = json.loads(api.calls.last.request.content)
    assert sent["response_format"] == {"type": "json_object"}


@pytest.mark.asyncio
async def test_too_many_stop_sequences_are_refused_unsent(api, client) -> None:
    route = api.post("/chat/completions")
    with pytest.raises(BadRequest, match="17"):
        await collect(client, stop=[str(n) for n in range(17)])
    assert not route.called


@pytest.mark.asyncio
async def test_base_url_path_is_kept(api) -> None:
    route = api.post(f"{BASE_URL}/beta/chat/completions").mock(
        return_value=stream_response(FakeStream(chunk({"content": "x"}, "stop"), DONE))
    )
    async with DeepSeekClient(base_url=f"{BASE_URL}/beta/", api_key="k") as c:
        await collect(c)
    assert route.called


# --- stream parsing ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_thinking_stream_usage_on_final_chunk(api, client) -> None:
    """The shape of every real capture: usage rides on the finish chunk, null before it."""
    mock_stream(
        api,
        chunk({"role": "assistant", "content": None, "reasoning_content": ""}, usage=None),
        KEEPALIVE,
        chunk({"content": None, "reasoning_content": "Hmm, "}, usage=None),
        chunk({"content": None, "reasoning_content": "the user…"}, usage=None),
        chunk({"content": "Hello", "reasoning_content": None}, usage=None),
        chunk({"content": " 世界", "reasoning_content": None}, usage=None),
        chunk({"content": "", "reasoning_content": None}, "stop", usage=USAGE),
        DONE,
    )
    assert await collect(client) == [
        ReasoningDelta("Hmm, "),
        ReasoningDelta("the user…"),
        ContentDelta("Hello"),
        ContentDelta(" 世界"),
        Usage(6, 169, 175, 1, 5, 117),
        Finish("stop"),
    ]


@pytest.mark.asyncio
async def test_separate_usage_chunk(api, client) -> None:
    """The documented shape: a trailing chunk with ``choices: []`` carries usage."""
    mock_stream(
        api,
        chunk({"role": "assistant", "content": ""}, usage=None),
        chunk({"content": "Hi"}, usage=None),
        chunk({"content": ""}, "length", usage=None),
        chunk(None, usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}),
        DONE,
    )
    assert await collect(client) == [
        ContentDelta("Hi"),
        Usage(prompt_tokens=3, completion_tokens=1, total_tokens=4),
        Finish("length"),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "identity", ""])
async def test_a_compressed_stream_is_decoded_and_a_plain_one_read_as_it_comes(
    api, client, encoding
) -> None:
    """DeepSeek streams uncompressed, read without httpx's decoder; a gateway that compresses
    the stream still gives the same events (the body is decoded as httpx decodes it)."""
    body = chunk({"content": "Hello"}) + chunk({"content": " 世界"}, "stop") + DONE
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    headers = {"content-type": "text/event-stream"}
    if encoding:
        headers["content-encoding"] = encoding
    half = len(body) // 2  # a compressed stream's pieces are not whole events either
    stream = FakeStream(body[:half], body[half:])
    api.post("/chat/completions").mock(
        return_value=httpx.Response(200, headers=headers, stream=stream)
    )

    assert await collect(client) == [ContentDelta("Hello"), ContentDelta(" 世界"), Finish("stop")]


@pytest.mark.asyncio
async def test_null_and_empty_deltas_are_never_yielded(api, client) -> None:
    mock_stream(
        api,
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": None, "reasoning_content": None}),
        chunk({"content": "", "reasoning_content": ""}),
        chunk({}),
        chunk({"content": "x"}),
        chunk({"content": ""}, "stop"),
        DONE,
    )
    assert await collect(client) == [ContentDelta("x"), Finish("stop")]


@pytest.mark.asyncio
async def test_finish_without_done_is_still_success(api, client) -> None:
    mock_stream(api, chunk({"content": "x"}), chunk({"content": ""}, "stop", usage=USAGE))
    events = await collect(client)
    assert events[-1] == Finish("stop")
    assert isinstance(events[-2], Usage)


@pytest.mark.asyncio
@pytest.mark.parametrize("ending", [b"", DONE], ids=["eof", "done-without-finish"])
async def test_stream_without_finish_reason_is_truncated(api, client, ending) -> None:
    mock_stream(api, chunk({"content": None, "reasoning_content": "thinking"}), ending)
    seen: list[Any] = []
    with pytest.raises(StreamTruncated) as info:
        async for event in client.stream_chat(messages=MESSAGES, model="m"):
            seen.append(event)
    assert seen == [ReasoningDelta("thinking")]
    assert info.value.retryable
    assert "cut off" in info.value.user_message


@pytest.mark.asyncio
async def test_connection_reset_mid_stream_is_truncated(api, client) -> None:
    mock_stream(api, chunk({"content": "partial"}), error=httpx.ReadError("connection reset"))
    with pytest.raises(StreamTruncated):
        await collect(client)


@pytest.mark.asyncio
async def test_malformed_chunk_is_protocol_error(api, client) -> None:
    stream = mock_stream(api, chunk({"content": "a"}), b"data: {not json\n\n", DONE)
    with pytest.raises(ProtocolError) as info:
        await collect(client)
    assert not info.value.retryable
    assert stream.closed


@pytest.mark.asyncio
async def test_error_reported_inside_the_stream(api, client) -> None:
    mock_stream(api, b'data: {"error":{"message":"boom","type":"server_error"}}\n\n')
    with pytest.raises(DeepSeekError, match="boom"):
        await collect(client)


# --- HTTP errors ---------------------------------------------------------------------------


def envelope(message: str, type_: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": type_}}


ERROR_CASES = [
    (400, envelope("Model Not Exist"), {}, BadRequest, False, "DEEPSEEK_MODEL"),
    (400, {"detail": "Content Exists Risk"}, {}, BadRequest, False, "content-safety"),
    (422, "Failed to deserialize the JSON body", {}, BadRequest, False, "Failed to deserialize"),
    (401, envelope("Authentication Fails"), {}, AuthenticationFailed, False, "DEEPSEEK_API_KEY"),
    (402, envelope("Insufficient Balance"), {}, InsufficientBalance, False, "Top up"),
    (429, envelope("Rate Limit Reached"), {"Retry-After": "2"}, RateLimited, True, "in 2 seconds"),
    (429, envelope("Rate Limit Reached"), {"Retry-After": "1"}, RateLimited, True, "in 1 second."),
    (429, envelope("Rate Limit Reached"), {}, RateLimited, True, "Wait a moment"),
    (500, envelope("Internal Server Error"), {}, Overloaded, True, "Try again"),
    (502, "<html>Bad Gateway</html>", {}, Overloaded, True, "Try again"),
    (503, envelope("Server overloaded"), {}, Overloaded, True, "Try again"),
]


def error_response(status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
@pytest.mark.parametrize(("status", "body", "headers", "cls", "retryable", "advice"), ERROR_CASES)
async def test_error_statuses(
    api, client, stream, status, body, headers, cls, retryable, advice
) -> None:
    api.post("/chat/completions").mock(return_value=error_response(status, body, headers))
    with pytest.raises(cls) as info:
        if stream:
            await collect(client)
        else:
            await client.chat(messages=MESSAGES, model="m")
    error = info.value
    assert error.status == status
    assert error.retryable is retryable
    assert advice in error.user_message
    assert error.retry_after == (float(headers["Retry-After"]) if headers else None)


def test_error_from_response_shapes() -> None:
    assert error_from_response(400, b'{"detail":"Content Exists Risk"}', {}).message == (
        "Content Exists Risk"
    )
    plain = error_from_response(422, b"Failed to deserialize: x", {})
    assert plain.message == "Failed to deserialize: x"
    assert "Failed to deserialize: x" in plain.user_message
    assert error_from_response(429, b"", {"retry-after": "1.5"}).retry_after == 1.5
    assert error_from_response(429, b"", {"Retry-After": "soon"}).retry_after is None
    dated = error_from_response(429, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert dated.retry_after == 0.0  # a date in the past means "now"
    other = error_from_response(404, b"Not Found", {})
    assert type(other) is DeepSeekError and "DEEPSEEK_BASE_URL" in other.user_message


# --- network failures and deadlines --------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("exc", "cls", "kind"),
    [
        (httpx.ConnectError("refused"), ConnectionFailed, None),
        (httpx.ConnectTimeout("slow"), UpstreamTimeout, "connect"),
    ],
)
async def test_connect_failures(api, client, exc, cls, kind) -> None:
    api.post("/chat/completions").mock(side_effect=exc)
    api.get("/models").mock(side_effect=exc)
    for call in (collect(client), client.list_models()):
        with pytest.raises(cls) as info:
            await call
        assert info.value.retryable
        assert getattr(info.value, "kind", None) == kind


@pytest.mark.asyncio
async def test_first_token_timeout_while_only_keepalives_arrive(api) -> None:
    """Keep-alives prove the connection lives, not that an answer is coming."""
    stream = mock_stream(api, chunk({"role": "assistant", "content": ""}), then=KEEPALIVE)
    timeouts = Timeouts(first_token=0.05, idle=10, total=10)
    async with DeepSeekClient(base_url=BASE_URL, api_key="k", timeouts=timeouts) as c:
        started = asyncio.get_running_loop().time()
        with pytest.raises(UpstreamTimeout) as info:
            await collect(c)
        elapsed = asyncio.get_running_loop().time() - started
    assert info.value.kind == "first_token"
    assert 0.05 <= elapsed < 1.0
    assert stream.closed


@pytest.mark.asyncio
async def test_idle_timeout_after_first_token_despite_keepalives(api) -> None:
    mock_stream(api, chunk({"content": "Hello"}), then=KEEPALIVE)
    timeouts = Timeouts(first_token=10, idle=0.05, total=10)
    seen: list[Any] = []
    async with DeepSeekClient(base_url=BASE_URL, api_key="k", timeouts=timeouts) as c:
        with pytest.raises(UpstreamTimeout) as info:
            async for event in c.stream_chat(messages=MESSAGES, model="m"):
                seen.append(event)
    assert seen == [ContentDelta("Hello")]
    assert info.value.kind == "idle"


@pytest.mark.asyncio
async def test_the_idle_timeout_reaches_the_task_that_reads_on(api) -> None:
    """A generation's early request reads the first event in a task of its own and the
    runner reads the rest (drafts.generation.EarlyRequest): a stall then is the runner's."""
    mock_stream(api, chunk({"content": "Hello"}), then=KEEPALIVE)
    timeouts = Timeouts(first_token=10, idle=0.05, total=10)
    async with DeepSeekClient(base_url=BASE_URL, api_key="k", timeouts=timeouts) as c:
        events = c.stream_chat(messages=MESSAGES, model="m")
        first = await asyncio.create_task(anext(events))  # as the early request does
        with pytest.raises(UpstreamTimeout) as info:
            async with asyncio.timeout(5):  # the runner's read, not a hang
                await anext(events)
        await events.aclose()
    assert first == ContentDelta("Hello") and info.value.kind == "idle"


@pytest.mark.asyncio
async def test_total_deadline_stops_an_endless_stream(api) -> None:
    mock_stream(api, then=chunk({"content": "more "}))
    timeouts = Timeouts(first_token=10, idle=10, total=0.1)
    async with DeepSeekClient(base_url=BASE_URL, api_key="k", timeouts=timeouts) as c:
        with pytest.raises(UpstreamTimeout) as info:
            await collect(c)
    assert info.value.kind == "total"


# --- closing and cancellation --------------------------------------------------------------


@pytest.mark.asyncio
async def test_breaking_out_closes_the_upstream_response(api, client) -> None:
    stream = mock_stream(api, chunk({"content": "first"}), hang=True)
    async with contextlib.aclosing(client.stream_chat(messages=MESSAGES, model="m")) as events:
        async for event in events:
            assert event == ContentDelta("first")
            break
    assert stream.closed


@pytest.mark.asyncio
async def test_cancelling_the_consumer_closes_the_upstream_response(api, client) -> None:
    stream = mock_stream(api, chunk({"content": "first"}), hang=True)
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


# --- non-streaming, models, balance --------------------------------------------------------


@pytest.mark.asyncio
async def test_chat_skips_leading_blank_lines(api, client) -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "model": "deepseek-flash",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi!", "reasoning_content": "hm"},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    content = b"\n\n\n\n" + json.dumps(body).encode()
    api.post("/chat/completions").mock(return_value=httpx.Response(200, content=content))
    result = await client.chat(messages=MESSAGES, model="deepseek-flash", thinking=False)
    assert (result.content, result.reasoning, result.finish_reason) == ("Hi!", "hm", "stop")
    assert result.usage.reasoning_tokens == 117
    assert result.model == "deepseek-flash"
    sent = json.loads(api.calls.last.request.content)
    assert sent["stream"] is False and "stream_options" not in sent


@pytest.mark.asyncio
async def test_chat_null_content_is_empty_string(api, client) -> None:
    body = {"choices": [{"message": {"content": None}, "finish_reason": "tool_calls"}]}
    api.post("/chat/completions").mock(return_value=httpx.Response(200, json=body))
    result = await client.chat(messages=MESSAGES, model="m")
    assert (result.content, result.reasoning, result.usage) == ("", "", Usage())


@pytest.mark.asyncio
@pytest.mark.parametrize("content", [b"\n\n   \n", b'\n\n{"choices": ['])
async def test_chat_unreadable_200_body_is_protocol_error(api, client, content) -> None:
    api.post("/chat/completions").mock(return_value=httpx.Response(200, content=content))
    with pytest.raises(ProtocolError):
        await client.chat(messages=MESSAGES, model="m")


@pytest.mark.asyncio
async def test_list_models(api, client) -> None:
    api.get("/models").mock(
        return_value=httpx.Response(
            200,
            json={
                "object": "list",
                "data": [
                    {"id": "deepseek-flash", "object": "model", "owned_by": "deepseek"},
                    {"id": "deepseek-v4-pro", "object": "model", "owned_by": "deepseek"},
                ],
            },
        )
    )
    assert await client.list_models() == ["deepseek-flash", "deepseek-v4-pro"]


@pytest.mark.asyncio
async def test_balance_amounts_are_decimals(api, client) -> None:
    info = {
        "currency": "CNY",
        "total_balance": "110.00",
        "granted_balance": "10.00",
        "topped_up_balance": "100.00",
    }
    api.get("/user/balance").mock(
        return_value=httpx.Response(200, json={"is_available": True, "balance_infos": [info]})
    )
    balance = await client.balance()
    assert balance.is_available
    assert balance.infos == [
        {
            "currency": "CNY",
            "total_balance": Decimal("110.00"),
            "granted_balance": Decimal("10.00"),
            "topped_up_balance": Decimal("100.00"),
        }
    ]


def test_usage_from_api_tolerates_missing_and_null_keys() -> None:
    assert Usage.from_api(None) == Usage()
    assert Usage.from_api({"prompt_tokens": 5, "completion_tokens_details": None}) == Usage(5)
    assert Usage.from_api({"total_tokens": None, "completion_tokens": 2}) == Usage(0, 2)
