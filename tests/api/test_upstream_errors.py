"""What the API answers for each DeepSeek failure (docs/api.md, "Errors"), and what the
official ``openai`` SDK does with it: failures only the studio's operators can fix are never
retried; failures that pass (429, 5xx) are, after the Retry-After the studio sends."""

from __future__ import annotations

import httpx
import httpx2
import openai
import pytest
import respx
from openai._base_client import AsyncAPIClient

from studio.asgi import application
from tests.conftest import CHAT_URL

pytestmark = pytest.mark.django_db(transaction=True)

STUDIO = "http://localhost/api/ai/v1/chat/completions"
MODELS_URL = CHAT_URL.replace("chat/completions", "models")
MESSAGES = [{"role": "user", "content": "A tagline for a desk lamp."}]


def _upstream(status: int, message: str, headers: dict[str, str] | None = None) -> None:
    body = {"error": {"message": message, "type": "x", "param": None, "code": "x"}}
    respx.post(CHAT_URL).mock(return_value=httpx.Response(status, json=body, headers=headers))
    models = {"object": "list", "data": [{"id": "deepseek-flash"}, {"id": "deepseek-v4-pro"}]}
    respx.get(MODELS_URL).mock(return_value=httpx.Response(200, json=models))


# upstream status, message, upstream headers -> studio status, code, Retry-After
TABLE = [
    (401, "Authentication Fails, Your api key: ****abcd is invalid", {}, 424,
     "upstream_auth_failed", None),
    (402, "Insufficient Balance", {}, 402, "insufficient_quota", None),
    (400, "This model's maximum context length is 131072 tokens.", {}, 400, "BadRequest", None),
    (400, "Model Not Exist", {}, 404, "model_not_found", None),
    (422, "Failed to deserialize the JSON body", {}, 400, "BadRequest", None),
    (429, "Rate Limit Reached", {"Retry-After": "2"}, 429, "RateLimited", "2"),
    (429, "Rate Limit Reached", {}, 429, "RateLimited", "5"),
    (500, "Internal Server Error", {}, 503, "Overloaded", "5"),
    (503, "Service Unavailable", {"Retry-After": "7"}, 503, "Overloaded", "7"),
]  # fmt: skip


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("upstream", "message", "headers", "status", "code", "retry"), TABLE)
@respx.mock
async def test_each_upstream_failure_maps_to_a_documented_answer(
    raw_key, settings, stream, upstream, message, headers, status, code, retry
):
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1
    _upstream(upstream, message, headers)
    transport = httpx2.ASGITransport(app=application)
    async with httpx2.AsyncClient(transport=transport, base_url="http://localhost") as client:
        reply = await client.post(
            STUDIO,
            json={"model": "deepseek-flash", "messages": MESSAGES, "stream": stream},
            headers={"Authorization": f"Bearer {raw_key}"},
        )

    error = reply.json()["error"]
    assert (reply.status_code, error["code"], reply.headers.get("Retry-After")) == (
        status,
        code,
        retry,
    )
    assert "DEEPSEEK_" not in error["message"]
    if retry is None:  # nothing changes by waiting: the message must not say to wait
        assert "Try again later" not in error["message"]


@respx.mock
async def test_an_unknown_model_is_named_and_not_offered_back(raw_key, settings):
    """The answer says the model is unknown and lists only the others: no "try again"."""
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1
    _upstream(400, "Model Not Exist")
    transport = httpx2.ASGITransport(app=application)
    async with httpx2.AsyncClient(transport=transport, base_url="http://localhost") as client:
        reply = await client.post(
            STUDIO,
            json={"model": "deepseek-flash", "messages": MESSAGES},
            headers={"Authorization": f"Bearer {raw_key}"},
        )

    error = reply.json()["error"]
    assert reply.status_code == 404 and error["param"] == "model"
    assert "deepseek-flash" in error["message"] and "does not exist" in error["message"]
    assert error["message"].endswith("Models you can name: deepseek-v4-pro.")
    assert "again" not in error["message"]


@pytest.mark.parametrize(
    ("upstream", "headers", "requests"),
    [
        (400, {}, 1),
        (401, {}, 1),
        (402, {}, 1),
        (429, {"Retry-After": "2"}, 3),  # the SDK's own rule: 429 and 5xx are retried
        (500, {}, 3),
        (503, {}, 3),
    ],
)
@respx.mock
async def test_the_official_sdk_retries_only_what_can_pass(
    raw_key, settings, monkeypatch, upstream, headers, requests
):
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1
    _upstream(upstream, "Upstream says no", headers)
    # The SDK's wait between attempts (Retry-After, back-off): none in a test.
    monkeypatch.setattr(AsyncAPIClient, "_calculate_retry_timeout", lambda *a, **k: 0.0)
    sent: list[str] = []

    async def count(request: httpx2.Request) -> None:
        sent.append(request.url.path)

    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=application),
        base_url="http://localhost",
        event_hooks={"request": [count]},
    )
    sdk = openai.AsyncOpenAI(
        api_key=raw_key, base_url="http://localhost/api/ai/v1", http_client=http, max_retries=2
    )

    with pytest.raises(openai.APIStatusError):
        await sdk.chat.completions.create(model="deepseek-flash", messages=MESSAGES)

    assert len(sent) == requests
