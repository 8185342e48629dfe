"""The OpenAI-compatible endpoint, driven by the official ``openai`` SDK over ASGI.

The SDK talks to the studio through httpx's ASGI transport (no socket); the studio's own
DeepSeek client is mocked with respx (the SDK uses a separate HTTP stack, so respx sees only
the upstream calls).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import httpx2
import openai
import pytest
import respx
from asgiref.sync import sync_to_async

from studio.asgi import application
from studio.audit.metrics import sample
from studio.audit.models import AuditLog
from tests.conftest import (
    CHAT_URL,
    chunk,
    completion,
    sse_body,
    sse_response,
    streaming_response,
)

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_URL_STUDIO = "http://localhost/api/ai/v1/chat/completions"
MESSAGES = [
    {"role": "system", "content": "You write product copy."},
    {"role": "user", "content": "A tagline for a desk lamp."},
]


@pytest.fixture
def sdk(raw_key, settings) -> openai.AsyncOpenAI:
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1  # upstream failures surface at once
    transport = httpx2.ASGITransport(app=application)
    return openai.AsyncOpenAI(
        api_key=raw_key,
        base_url="http://localhost/api/ai/v1",
        http_client=httpx2.AsyncClient(transport=transport, base_url="http://localhost"),
        max_retries=0,
    )


@respx.mock
async def test_non_streaming_completion(sdk, user):
    route = respx.post(CHAT_URL).mock(return_value=completion())

    result = await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)

    assert result.choices[0].message.content == "Light, simply."
    assert result.choices[0].finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 5)
    sent = json.loads(route.calls.last.request.content)
    assert sent["messages"] == MESSAGES and sent["stream"] is False
    row = await AuditLog.objects.select_related("api_key").aget()
    assert (row.status, row.channel, row.user_id) == ("ok", "openai", user.pk)
    assert row.api_key.name == "CMS sync" and row.total_tokens == 17
    assert "A tagline for a desk lamp." in row.prompt and row.response == "Light, simply."
    assert row.latency_ms is not None and row.cost is not None and row.ip


@respx.mock
async def test_streaming_completion_reemits_openai_chunks(sdk):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Light", ", ", "simply."])))

    stream = await sdk.chat.completions.create(
        model="deepseek-flash",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert text == "Light, simply."
    assert finishes[-1] == "stop" and all(f is None for f in finishes[:-1])
    assert chunks[-1].usage.total_tokens == 17 and chunks[-1].choices == []
    assert len({c.id for c in chunks}) == 1 and chunks[0].object == "chat.completion.chunk"
    row = await AuditLog.objects.aget()
    assert (row.status, row.response, row.total_tokens) == ("ok", "Light, simply.", 17)
    assert row.ttft_ms is not None


@respx.mock
async def test_a_stream_cut_upstream_ends_in_an_error_the_sdk_raises(sdk):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Partial"], done=False)))

    stream = await sdk.chat.completions.create(
        model="deepseek-flash", messages=MESSAGES, stream=True
    )
    received = []
    with pytest.raises(openai.APIError, match="cut off"):
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "Partial"
    row = await AuditLog.objects.aget()
    assert (row.status, row.error_code, row.response) == ("failed", "StreamTruncated", "Partial")


@respx.mock
async def test_upstream_refusal_is_an_http_error_with_advice(sdk):
    body = b'{"error":{"message":"Insufficient Balance","type":"unknown_error"}}'
    respx.post(CHAT_URL).mock(return_value=httpx.Response(402, content=body))
    failed_before = sample("ai_error_count_total", {"kind": "InsufficientBalance"})

    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES, stream=True)

    assert caught.value.status_code == 402  # not retryable: only the operators can top up
    assert "credit" in caught.value.message
    row = await AuditLog.objects.aget()
    assert (row.status, row.error_code) == ("failed", "InsufficientBalance")
    assert sample("ai_error_count_total", {"kind": "InsufficientBalance"}) == failed_before + 1


@respx.mock
async def test_identical_deterministic_requests_are_served_from_the_cache(sdk, user):
    route = respx.post(CHAT_URL).mock(return_value=completion("Zero."))
    hits, misses = (
        sample("ai_cache_total", {"result": "hit"}),
        sample("ai_cache_total", {"result": "miss"}),
    )

    first = await sdk.chat.completions.with_raw_response.create(
        model="deepseek-flash", messages=MESSAGES, temperature=0
    )
    second = await sdk.chat.completions.with_raw_response.create(
        model="deepseek-flash", messages=MESSAGES, temperature=0
    )
    streamed = await sdk.chat.completions.create(
        model="deepseek-flash", messages=MESSAGES, temperature=0, stream=True
    )
    streamed_text = "".join([c.choices[0].delta.content or "" async for c in streamed])

    assert route.call_count == 1
    assert (first.headers["x-studio-cache"], second.headers["x-studio-cache"]) == ("miss", "hit")
    assert second.parse().choices[0].message.content == "Zero." == streamed_text
    assert sample("ai_cache_total", {"result": "hit"}) == hits + 2
    assert sample("ai_cache_total", {"result": "miss"}) == misses + 1
    rows = [r async for r in AuditLog.objects.order_by("pk")]
    assert [r.cached for r in rows] == [False, True, True]
    assert [r.total_tokens for r in rows] == [17, 0, 0]  # cached answers cost nothing


@respx.mock
async def test_the_cache_can_be_bypassed_and_ignores_random_requests(sdk):
    route = respx.post(CHAT_URL).mock(return_value=completion())

    await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES, temperature=0)
    bypass = await sdk.chat.completions.with_raw_response.create(
        model="deepseek-flash",
        messages=MESSAGES,
        temperature=0,
        extra_headers={"X-Studio-Cache": "bypass"},
    )
    await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES, temperature=1)
    await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES, temperature=1)

    assert bypass.headers["x-studio-cache"] == "refresh"
    assert route.call_count == 4


@respx.mock
async def test_explicit_reuse_caches_a_nonzero_temperature(sdk):
    route = respx.post(CHAT_URL).mock(return_value=completion())
    reuse = {"X-Studio-Cache": "reuse"}

    for _ in range(2):
        await sdk.chat.completions.create(
            model="deepseek-flash", messages=MESSAGES, temperature=1.3, extra_headers=reuse
        )

    assert route.call_count == 1


@respx.mock
async def test_a_blocked_prompt_never_reaches_deepseek(sdk):
    route = respx.post(CHAT_URL).mock(return_value=completion())
    leaky = [{"role": "user", "content": "Use my key sk-0123456789abcdef0123 to log in"}]

    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=leaky)

    assert "an API secret key (sk-…)" in caught.value.message
    assert caught.value.code == "prompt_blocked" and not route.called
    row = await AuditLog.objects.aget()
    assert row.status == "blocked" and "sk-0123" not in row.prompt


@respx.mock
async def test_an_exhausted_daily_budget_is_a_429(sdk, user, settings):
    """Each call reserves its prompt and answer; the third no longer has room for an answer."""
    from studio.deepseek.pricing import estimate_prompt_tokens
    from studio.guardrails.budgets import MIN_OUTPUT_TOKENS

    budget = estimate_prompt_tokens(MESSAGES) + MIN_OUTPUT_TOKENS + 27
    settings.AI_DAILY_TOKEN_BUDGET = budget
    route = respx.post(CHAT_URL).mock(return_value=completion())

    await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)  # 17 tokens
    await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)  # 34 used
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)

    assert caught.value.code == "daily_budget_exceeded"
    assert f"{budget} tokens" in caught.value.message
    assert int(caught.value.response.headers["retry-after"]) > 0
    assert route.call_count == 2


@respx.mock
async def test_a_call_larger_than_the_budget_is_shortened_to_fit(sdk, user, settings):
    """The review's 3,511-token call against a 3,000 budget: DeepSeek is asked for less."""
    from django.core.cache import cache

    from studio.deepseek.pricing import estimate_prompt_tokens
    from studio.guardrails.budgets import _reserved_key

    settings.AI_DAILY_TOKEN_BUDGET = 3000
    route = respx.post(CHAT_URL).mock(return_value=completion())

    await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES, max_tokens=3500)

    sent = json.loads(route.calls.last.request.content)
    assert sent["max_tokens"] == 3000 - estimate_prompt_tokens(MESSAGES)
    assert await cache.aget(_reserved_key(user.pk)) == 0  # released once audited


@respx.mock
async def test_the_api_rate_limit_is_a_429_with_retry_after(sdk, settings):
    settings.RATELIMIT_ROUTES = {"api_ai:chat_completions": "2/h"}
    respx.post(CHAT_URL).mock(return_value=completion())

    for _ in range(2):
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)

    assert caught.value.code == "rate_limit_exceeded"
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 3600


async def test_the_sdk_lists_the_studio_model(sdk, settings):
    models = await sdk.models.list()

    assert [m.id async for m in models] == [settings.DEEPSEEK_MODEL]


async def test_a_revoked_key_is_refused(sdk, user):
    from studio.api.models import ApiKey

    await ApiKey.objects.filter(user=user).aupdate(revoked="2026-01-01T00:00:00Z")

    with pytest.raises(openai.AuthenticationError):
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)


async def _disconnect_mid_stream(raw_key: str) -> None:
    """Stream a chat whose upstream stalls after "Half", then hang up; wait for DeepSeek's
    response to be closed (wherever the hang-up finds the client: reading, or between)."""
    from tests.deepseek.conftest import StreamingASGITransport

    upstream_closed = asyncio.Event()

    class Stalled(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": ""}) + chunk({"content": "Half"})
            await asyncio.Event().wait()  # DeepSeek keeps generating

        async def aclose(self) -> None:
            upstream_closed.set()

    headers = {"content-type": "text/event-stream"}
    respx.post(CHAT_URL).mock(return_value=httpx.Response(200, headers=headers, stream=Stalled()))
    transport = StreamingASGITransport(application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        body = {"model": "deepseek-flash", "messages": MESSAGES, "stream": True}
        headers = {"Authorization": f"Bearer {raw_key}"}
        async with client.stream("POST", CHAT_URL_STUDIO, json=body, headers=headers) as reply:
            async for part in reply.aiter_bytes():
                if b"Half" in part:
                    break
    await asyncio.wait_for(upstream_closed.wait(), 5)


@respx.mock
async def test_a_client_disconnect_cancels_upstream_and_is_audited_as_cancelled(raw_key):
    await _disconnect_mid_stream(raw_key)

    row = await AuditLog.objects.aget()
    assert (row.status, row.response) == ("cancelled", "Half")


@respx.mock
async def test_a_stream_cancelled_before_its_usage_still_counts_against_the_budget(raw_key, user):
    """DeepSeek bills what it generated before the hang-up; hanging up just before the final
    (usage) chunk must not make a call free for the daily budget."""
    from studio.guardrails.budgets import tokens_used_today

    await _disconnect_mid_stream(raw_key)

    row = await AuditLog.objects.aget()
    assert row.prompt_tokens and row.completion_tokens
    assert await sync_to_async(tokens_used_today)(user) == row.total_tokens > 0


@respx.mock
async def test_temperature_zero_in_thinking_mode_is_not_reused(sdk):
    """Thinking mode ignores temperature, so temperature 0 there is not deterministic."""
    route = respx.post(CHAT_URL).mock(return_value=completion())
    thinking = {"thinking": {"type": "enabled"}}

    for _ in range(2):
        reply = await sdk.chat.completions.with_raw_response.create(
            model="deepseek-flash", messages=MESSAGES, temperature=0, extra_body=thinking
        )

    assert route.call_count == 2 and reply.headers["x-studio-cache"] == "off"


@respx.mock
async def test_with_include_usage_every_chunk_carries_a_null_usage(raw_key):
    """OpenAI's wire format: with include_usage, chunks before the usage chunk say usage null."""
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Light"])))
    transport = httpx2.ASGITransport(app=application)
    async with httpx2.AsyncClient(transport=transport, base_url="http://localhost") as client:
        reply = await client.post(
            CHAT_URL_STUDIO,
            json={
                "model": "deepseek-flash",
                "messages": MESSAGES,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            headers={"Authorization": f"Bearer {raw_key}"},
        )

    events = [line[6:] for line in reply.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 17


def _unknown_model_upstream() -> None:
    body = b'{"error":{"message":"Model Not Exist","type":"invalid_request_error"}}'
    respx.post(CHAT_URL).mock(return_value=httpx.Response(400, content=body))
    models = {"object": "list", "data": [{"id": "deepseek-flash", "object": "model"}]}
    respx.get(CHAT_URL.replace("chat/completions", "models")).mock(
        return_value=httpx.Response(200, json=models)
    )


@respx.mock
async def test_an_unknown_model_name_adds_no_metrics_series(sdk):
    """Callers choose the model string: it must not become a Prometheus label value."""
    _unknown_model_upstream()

    with pytest.raises(openai.NotFoundError):
        await sdk.chat.completions.create(model="made-up-model-7f3a", messages=MESSAGES)

    assert sample("ai_request_total", {"model": "made-up-model-7f3a", "status": "failed"}) == 0
    assert sample("ai_request_total", {"model": "other", "status": "failed"}) >= 1


@respx.mock
async def test_a_long_model_name_is_audited_cut_to_the_column(sdk):
    """AuditLog.model is 64 characters; PostgreSQL refuses longer values (a 500)."""
    _unknown_model_upstream()

    with pytest.raises(openai.NotFoundError):
        await sdk.chat.completions.create(model="m" * 200, messages=MESSAGES)

    row = await AuditLog.objects.aget()
    assert row.status == "failed" and row.model == "m" * 64


@pytest.mark.parametrize("stream", [True, False])
@respx.mock
async def test_a_hang_up_before_the_first_token_is_audited_as_cancelled(
    raw_key, user, settings, stream
):
    """Thinking models can take minutes to the first token; a client that leaves meanwhile
    is a cancelled call (audited and counted), and DeepSeek's stream is closed."""
    from asgiref.testing import ApplicationCommunicator
    from django.core.cache import cache

    from studio.deepseek.pricing import estimate_prompt_tokens
    from studio.guardrails.budgets import _reserved_key

    upstream_started, upstream_closed = asyncio.Event(), asyncio.Event()

    async def queued() -> AsyncIterator[bytes]:
        try:
            upstream_started.set()
            await asyncio.Event().wait()  # still queued at DeepSeek
            yield b""
        finally:
            upstream_closed.set()

    respx.post(CHAT_URL).mock(return_value=streaming_response(queued()))
    body = json.dumps({"model": "deepseek-flash", "messages": MESSAGES, "stream": stream})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/ai/v1/chat/completions",
        "raw_path": b"/api/ai/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {raw_key}".encode()),
        ],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }
    app = ApplicationCommunicator(application, scope)
    await app.send_input({"type": "http.request", "body": body.encode(), "more_body": False})
    await asyncio.wait_for(upstream_started.wait(), 5)
    await app.send_input({"type": "http.disconnect"})
    await app.wait(timeout=5)

    await asyncio.wait_for(upstream_closed.wait(), 5)
    row = await AuditLog.objects.aget()
    assert (row.status, row.response) == ("cancelled", "")
    # Counted: the prompt at least, and a non-streaming answer DeepSeek goes on to write whole.
    prompt = estimate_prompt_tokens(MESSAGES)
    assert row.prompt_tokens == prompt
    assert row.completion_tokens == (0 if stream else settings.DEEPSEEK_MAX_TOKENS)
    assert await cache.aget(_reserved_key(user.pk)) == 0


@respx.mock
async def test_upstream_trouble_of_the_studio_does_not_leak_its_settings(sdk):
    """The advice for the studio's operators (which setting to fix) is not for API callers."""
    body = b'{"error":{"message":"Authentication Fails (no such user)","type":"auth"}}'
    respx.post(CHAT_URL).mock(return_value=httpx.Response(401, content=body))

    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)

    assert caught.value.status_code == 424  # not retryable: the studio's key is wrong
    assert "DEEPSEEK_" not in caught.value.message and "operators" in caught.value.message
    row = await AuditLog.objects.aget()
    assert row.error_code == "AuthenticationFailed"


@respx.mock
async def test_an_unexpected_failure_mid_stream_is_not_audited_as_a_success(raw_key):
    """Whatever breaks the stream, the audit row must not say ``ok`` for half an answer."""

    async def broken() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""}) + chunk({"content": "Half"})
        raise RuntimeError("a bug, not a DeepSeek error")

    respx.post(CHAT_URL).mock(return_value=streaming_response(broken()))
    transport = httpx2.ASGITransport(app=application)
    async with httpx2.AsyncClient(transport=transport, base_url="http://localhost") as client:
        with pytest.raises(RuntimeError):
            await client.post(
                CHAT_URL_STUDIO,
                json={"model": "deepseek-flash", "messages": MESSAGES, "stream": True},
                headers={"Authorization": f"Bearer {raw_key}"},
            )

    row = await AuditLog.objects.aget()
    assert (row.status, row.error_code, row.response) == ("failed", "RuntimeError", "Half")


TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tools", TOOLS),
        ("tool_choice", "required"),
        ("functions", [{"name": "get_weather", "parameters": {}}]),
        ("function_call", {"name": "get_weather"}),
    ],
)
@respx.mock
async def test_tool_calling_is_refused_rather_than_silently_ignored(sdk, field, value):
    """A client relying on tool calls must learn they are unsupported, not get plain text."""
    route = respx.post(CHAT_URL).mock(return_value=completion())

    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(
            model="deepseek-flash", messages=MESSAGES, extra_body={field: value}
        )

    error = caught.value.body
    assert caught.value.status_code == 400 and not route.called
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        field,
        "unsupported_parameter",
    )
    assert f"'{field}'" in error["message"]


@respx.mock
async def test_empty_tools_and_tool_choice_none_ask_for_no_tools_and_pass(sdk):
    route = respx.post(CHAT_URL).mock(return_value=completion())

    await sdk.chat.completions.create(
        model="deepseek-flash", messages=MESSAGES, extra_body={"tools": [], "tool_choice": "none"}
    )

    sent = json.loads(route.calls.last.request.content)
    assert "tools" not in sent and "tool_choice" not in sent


@respx.mock
async def test_more_than_one_choice_is_refused_naming_n(sdk):
    route = respx.post(CHAT_URL).mock(return_value=completion())

    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES, n=2)

    assert caught.value.status_code == 422 and caught.value.body["param"] == "n"
    assert not route.called


OPENAI_STYLE = [
    {"role": "developer", "content": [{"type": "text", "text": "You write product copy."}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "A tagline"},
            {"type": "text", "text": "for a desk lamp."},
        ],
    },
]


@respx.mock
async def test_developer_role_and_text_parts_are_sent_to_deepseek_as_plain_strings(sdk, user):
    """DeepSeek rejects role ``developer`` and array content: they become ``system`` and the
    parts' texts joined by newlines; the cache key and the audit row use the same."""
    route = respx.post(CHAT_URL).mock(return_value=completion())

    await sdk.chat.completions.create(model="deepseek-flash", messages=OPENAI_STYLE, temperature=0)
    again = await sdk.chat.completions.with_raw_response.create(
        model="deepseek-flash",
        messages=[
            {"role": "system", "content": "You write product copy."},
            {"role": "user", "content": "A tagline\nfor a desk lamp."},
        ],
        temperature=0,
    )

    assert json.loads(route.calls.last.request.content)["messages"] == [
        {"role": "system", "content": "You write product copy."},
        {"role": "user", "content": "A tagline\nfor a desk lamp."},
    ]
    assert route.call_count == 1 and again.headers["x-studio-cache"] == "hit"
    row = await AuditLog.objects.order_by("pk").afirst()
    assert row.prompt == "system: You write product copy.\n\nuser: A tagline\nfor a desk lamp."


@respx.mock
async def test_an_image_part_is_refused_as_text_only(sdk):
    route = respx.post(CHAT_URL).mock(return_value=completion())
    image = {"type": "image_url", "image_url": {"url": "https://example.com/lamp.png"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Describe"}, image]}]

    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(model="deepseek-flash", messages=messages)

    error = caught.value.body
    assert not route.called and error["code"] == "unsupported_content"
    assert error["param"] == "messages[0].content[1]"
    assert "text only" in error["message"] and "image_url" in error["message"]
    assert not await AuditLog.objects.aexists()


@pytest.mark.parametrize("thinking", [{"type": ["x"]}, {"type": "maybe"}, {}, "enabled", [1]])
async def test_a_malformed_thinking_is_a_json_4xx_not_a_500(raw_key, thinking):
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        body = {"model": "deepseek-flash", "messages": MESSAGES, "thinking": thinking}
        headers = {"Authorization": f"Bearer {raw_key}"}
        reply = await client.post(CHAT_URL_STUDIO, json=body, headers=headers)

    assert reply.status_code == 422
    assert reply.json()["error"]["param"] in ("thinking", "type")


@respx.mock
async def test_concurrent_calls_never_use_more_than_the_budget(sdk, user, settings):
    """The review's 25 concurrent calls (billed 2.6x the budget): even when each answer uses
    every token it may, the day's usage stays within the budget."""
    from studio.deepseek.pricing import estimate_prompt_tokens
    from studio.guardrails.budgets import tokens_used_today

    settings.AI_DAILY_TOKEN_BUDGET = 3000

    def whole_answer(request):
        body = json.loads(request.content)
        prompt = estimate_prompt_tokens(body["messages"])
        usage = {"prompt_tokens": prompt, "completion_tokens": body["max_tokens"]}
        return completion(usage=usage | {"total_tokens": prompt + body["max_tokens"]})

    respx.post(CHAT_URL).mock(side_effect=whole_answer)

    async def ask():
        with contextlib.suppress(openai.RateLimitError):  # refused: over the budget
            await sdk.chat.completions.create(
                model="deepseek-flash", messages=MESSAGES, max_tokens=300
            )

    await asyncio.gather(*(ask() for _ in range(25)))

    assert 0 < await sync_to_async(tokens_used_today)(user) <= 3000
