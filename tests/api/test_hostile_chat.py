"""Hostile input to the JSON API: any body answers a 4xx in the JSON error envelope, or works;
never a 500, and never Django's HTML error page."""

import json
import math

import httpx
import pytest
import respx
from django.urls import reverse
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import CHAT_URL, completion, sse_body, sse_response

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_FIELDS = [
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "frequency_penalty", "presence_penalty", "stop", "response_format",
    "reasoning_effort", "thinking", "n", "tools", "tool_choice", "functions", "function_call",
]  # fmt: skip
GENERATE_FIELDS = ["template", "inputs", "label", "wait"]
MESSAGES = [{"role": "user", "content": "A tagline for a desk lamp."}]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def bodies(fields: list[str], base: dict) -> st.SearchStrategy:
    """Anything JSON; dicts of the real field names (and others) with values of any type; and
    a valid base with one real field of any type (``{"type": ...}`` among them)."""
    keys = st.sampled_from(fields) | st.text(max_size=10)
    value = JSON | st.fixed_dictionaries({"type": JSON})
    one_wrong = st.sampled_from(fields).flatmap(
        lambda name: st.fixed_dictionaries({**base, name: value})
    )
    return JSON | st.dictionaries(keys, JSON, max_size=6) | one_wrong


def _upstream(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        return sse_response(sse_body(["Light."]))
    return completion()


@pytest.fixture
def no_rate_limits(settings):
    settings.RATELIMIT_ROUTES = {"api_ai:chat_completions": "off", "api_ai:generate": "off"}


def _assert_answered(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["error"]["message"]


EXAMPLES = hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(body=bodies(CHAT_FIELDS, {"messages": st.just(MESSAGES)}))
@example(body={"messages": MESSAGES, "thinking": {"type": ["x"]}})  # the review's 500
@example(body={"messages": MESSAGES, "response_format": {"": math.inf}})  # Hypothesis's 500
def test_any_body_to_the_openai_endpoint_is_answered_never_a_500(
    client, auth, no_rate_limits, body
):
    with respx.mock:
        respx.post(CHAT_URL).mock(side_effect=_upstream)
        response = client.post(
            reverse("api_ai:chat_completions"),
            json.dumps(body),
            content_type="application/json",
            headers=auth,
        )

    _assert_answered(response)


@EXAMPLES
@given(body=bodies(GENERATE_FIELDS, {"template": st.integers(0, 5)}))
def test_any_body_to_generate_is_answered_never_a_500(
    client, workspace, demo_templates, auth, no_rate_limits, body
):
    body = {**body, "wait": False} if isinstance(body, dict) else body  # nothing left running
    with respx.mock:
        respx.post(CHAT_URL).mock(side_effect=_upstream)
        response = client.post(
            reverse("api_ai:generate", args=[workspace.pk]),
            json.dumps(body),
            content_type="application/json",
            headers=auth,
        )

    _assert_answered(response)


@pytest.mark.parametrize("route", ["chat_completions", "generate"])
def test_an_oversized_body_is_a_413_in_the_json_envelope(client, workspace, auth, route):
    args = [workspace.pk] if route == "generate" else []
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 3_000_000}]})

    response = client.post(
        reverse(f"api_ai:{route}", args=args), body, content_type="application/json", headers=auth
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


NOT_JSON = [b"{", b"\xff\xfe{}", b'{"messages": [', b"", b"null", b"1e999999"]
# Python's json reads these as floats; JSON has no such numbers, and DeepSeek would not take them.
NOT_NUMBERS = [b"NaN", b"Infinity", b"-Infinity", b"1e999"]


@pytest.mark.parametrize("number", NOT_NUMBERS)
def test_a_number_json_does_not_have_is_a_400(client, auth, number):
    body = b'{"messages": [{"role": "user", "content": "Hi"}], "temperature": ' + number + b"}"
    body_in_a_dict = b'{"messages": [{"role": "user", "content": "Hi"}], "response_format": '
    for sent in (body, body_in_a_dict + b'{"x": ' + number + b"}}"):
        response = client.post(
            reverse("api_ai:chat_completions"), sent, content_type="application/json", headers=auth
        )
        _assert_answered(response)
        assert response.status_code == 400


@pytest.mark.parametrize("body", NOT_JSON)
@pytest.mark.parametrize("route", ["chat_completions", "generate"])
def test_a_body_that_is_not_json_is_a_4xx_envelope(client, workspace, auth, route, body):
    args = [workspace.pk] if route == "generate" else []

    response = client.post(
        reverse(f"api_ai:{route}", args=args), body, content_type="application/json", headers=auth
    )

    _assert_answered(response)
    assert response.status_code >= 400
