"""What the API answers for each DeepSeek failure (docs/api.md, "Errors"), and what the
official ``openai`` SDK does with it: failures only the studio's operators can fix are never
retried; failures that pass (429, 5xx) are, after the Retry-After the studio sends."""

from __future__ import annotations

import re
from pathlib import Path

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


DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _documented() -> dict[str, tuple[int, set[str], bool]]:
    """docs/api.md's upstream error table: each row's studio status, codes, SDK retries."""
    section = DOCS.read_text().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[1].isdigit():
            codes = set(re.findall(r"`([A-Za-z_]+)`", cells[3]))
            rows[cells[0]] = (int(cells[1]), codes, cells[5] == "yes")
    return rows


def test_the_documented_statuses_are_retried_by_the_official_sdk_as_documented():
    """Each row's "SDK retries" column is what the SDK itself decides for that status (with
    the Retry-After the studio sends where it retries)."""
    rows = _documented()
    assert len(rows) >= 9, rows
    sdk = openai.OpenAI(api_key="sk-none", base_url="http://localhost/api/ai/v1")
    for what, (status, _codes, retries) in rows.items():
        headers = {"Retry-After": "5"} if retries else {}
        request = httpx2.Request("POST", "http://localhost/api/ai/v1/chat/completions")
        response = httpx2.Response(status, headers=headers, request=request)
        assert sdk._should_retry(response) is retries, what


def test_what_the_api_answers_for_each_upstream_failure_is_the_documented_row():
    """TABLE (driven through the API above) and docs/api.md say the same: the status and code
    of every upstream 400/401/402/422/429/5xx, and whether the SDK retries it."""
    documented = {
        (status, code): retries
        for status, codes, retries in _documented().values()
        for code in codes
    }
    for upstream, message, _headers, status, code, retry in TABLE:
        assert (status, code) in documented, (upstream, message)
        assert documented[(status, code)] is (retry is not None), (upstream, message)
