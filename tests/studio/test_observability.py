"""Structured logs: one JSON line per request and per AI call, tied together by a request id
that comes from X-Request-ID (when sane) or is made here, and goes back in the response."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import respx
from django.urls import reverse

from drafts import generation as runner
from drafts.models import Generation
from studio.audit.recording import record_ai_call
from studio.observability import request_id_var
from tests.conftest import CHAT_URL, sse_body, sse_response
from tests.studio.test_settings import manage

HTMX = {"HX-Request": "true"}


@pytest.fixture
def written():
    """What the configured console handler writes (its JSON formatter and request id filter),
    copied into a buffer: ``written()`` gives the lines so far, parsed."""
    console = logging.getLogger().handlers[0]
    buffer = io.StringIO()
    copy = logging.StreamHandler(buffer)
    copy.setFormatter(console.formatter)
    for log_filter in console.filters:
        copy.addFilter(log_filter)
    logging.getLogger().addHandler(copy)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logging.getLogger().removeHandler(copy)


def lines(written, logger: str) -> list[dict]:
    return [line for line in written() if line["logger"] == logger]


def test_one_json_line_per_request_with_the_callers_request_id(client, user, workspace, written):
    client.force_login(user)
    response = client.get(f"/w/{workspace.pk}/", headers={"X-Request-ID": "edge-42.a:b"})
    assert response["X-Request-ID"] == "edge-42.a:b"
    [line] = lines(written, "studio.request")
    assert line["method"] == "GET" and line["path"] == f"/w/{workspace.pk}/"
    assert line["status"] == 200 and line["user_id"] == user.pk
    assert line["request_id"] == "edge-42.a:b"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert {"time", "level", "logger", "message"} <= line.keys()


@pytest.mark.parametrize("bad", ["two words", "a\nforged: line", "x" * 65, "-leading", "é"])
def test_an_unusable_request_id_is_replaced(client, db, bad, written):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    made = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    [line] = lines(written, "studio.request")
    assert line["request_id"] == made and line["user_id"] is None


def test_without_a_header_each_request_gets_its_own_id(client, db):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_one_json_line_per_ai_call(user, written):
    token = request_id_var.set("req-ai-1")
    try:
        record_ai_call(
            status="ok",
            model="deepseek-flash",
            prompt="hi",
            prompt_tokens=12,
            completion_tokens=5,
            cost=0.0004,
            latency_ms=321,
            user=user,
            channel="api",
        )
    finally:
        request_id_var.reset(token)
    [line] = lines(written, "studio.ai")
    assert line["model"] == "deepseek-flash" and line["status"] == "ok"
    assert (line["prompt_tokens"], line["completion_tokens"], line["total_tokens"]) == (12, 5, 17)
    assert line["cost"] == "0.0004" and line["latency_ms"] == 321
    assert line["request_id"] == "req-ai-1" and line["generation_id"] is None


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_generation_runner_logs_under_the_request_id_that_started_it(
    async_client, user, workspace, product_template, product_inputs, written
):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Hello"])))
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()
    url = reverse("drafts:generate", args=[workspace.pk])
    response = await async_client.post(
        url,
        {"version": version.pk, **product_inputs},
        headers=HTMX | {"X-Request-ID": "gen-req-7"},
    )
    generation = await Generation.objects.aget()
    if task := runner.task_for(generation.pk):
        await task
    assert response["X-Request-ID"] == "gen-req-7"
    # The AI call's line is written by the runner, after the response: the contextvar.
    [ai] = [line for line in written() if line["logger"] == "studio.ai"]
    assert ai["request_id"] == "gen-req-7" and ai["generation_id"] == generation.pk
    assert ai["status"] == "ok" and ai["total_tokens"] == 17
    [request] = [line for line in written() if line["logger"] == "studio.request"]
    assert request["request_id"] == "gen-req-7" and request["path"] == url


def test_text_logs_when_debug_and_json_in_production():
    code = "from django.conf import settings as s; print(s.LOGGING['handlers']['console'])"
    assert manage("shell", "--no-imports", "-c", code, DEBUG="true").stdout.count("'text'") == 1
    production = manage("shell", "--no-imports", "-c", code, DEBUG="false", SECRET_KEY="k" * 50)
    assert "'formatter': 'json'" in production.stdout
    forced = manage("shell", "--no-imports", "-c", code, DEBUG="true", LOG_FORMAT="json")
    assert "'formatter': 'json'" in forced.stdout
