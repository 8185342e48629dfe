"""/metrics: token-protected Prometheus exposition with the AI series after a few calls."""

import pytest

from studio.audit.metrics import observe_ai_call, open_stream, sample

pytestmark = pytest.mark.django_db


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_metrics_show_the_ai_series_after_calls(client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    settings.DEEPSEEK_MODEL = "m-test"  # a configured model gets its own series
    observe_ai_call(
        model="m-test",
        status="ok",
        latency_s=1.5,
        ttft_s=0.4,
        prompt_tokens=10,
        completion_tokens=5,
        cost=0.002,
    )
    observe_ai_call(model="m-test", status="failed", latency_s=0.2, error_kind="Overloaded")

    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})

    text = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    for line in (
        'ai_request_total{model="m-test",status="ok"}',
        'ai_request_total{model="m-test",status="failed"}',
        'ai_response_time_seconds_bucket{le="2.0",model="m-test"}',
        'ai_time_to_first_token_seconds_count{model="m-test"}',
        'ai_error_count_total{kind="Overloaded"}',
        'ai_tokens_total{kind="completion",model="m-test"}',
        'ai_cost_usd_total{model="m-test"}',
        "ai_open_streams ",
        'ai_circuit_breaker_state{upstream="deepseek"} 0.0',
    ):
        assert line in text, line


def test_open_streams_gauge_follows_the_block():
    before = sample("ai_open_streams")
    with open_stream():
        assert sample("ai_open_streams") == before + 1
    assert sample("ai_open_streams") == before


def test_model_names_the_studio_does_not_know_share_one_series(settings):
    """The model label's values stay bounded whatever names API callers send."""
    settings.DEEPSEEK_PRICES = {"priced-model": ["0.1", "0.2", "0.3"]}
    before = sample("ai_request_total", {"model": "other", "status": "ok"})

    for name in ("typo-1", "typo-2", "x" * 300):
        observe_ai_call(model=name, status="ok")
    observe_ai_call(model="priced-model", status="ok")

    assert sample("ai_request_total", {"model": "other", "status": "ok"}) == before + 3
    assert sample("ai_request_total", {"model": "typo-1", "status": "ok"}) == 0
    assert sample("ai_request_total", {"model": "priced-model", "status": "ok"}) == 1
