"""/metrics: token-protected Prometheus exposition with the AI series after a few calls, from
one process or summed over several (PROMETHEUS_MULTIPROC_DIR)."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx
from django.test import AsyncClient
from prometheus_client import generate_latest

from studio.audit.metrics import (
    observe_admission_wait,
    observe_ai_call,
    open_stream,
    sample,
    set_queue_depth,
)
from tests.conftest import CHAT_URL, USAGE, completion, sse_body, sse_response

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


def test_metrics_show_the_generations_waiting_for_a_slot_and_how_long(client, settings):
    """GENERATION_MAX_RUNNING's line (studio.streams.admission): its depth now, and each
    generation's wait for its slot (0 for one that never waited)."""
    settings.METRICS_TOKEN = "scrape-me"
    waited = sample("generation_admission_wait_seconds_count")
    quick = sample("generation_admission_wait_seconds_bucket", {"le": "0.0"})
    set_queue_depth(4)
    observe_admission_wait(0)
    observe_admission_wait(7.5)

    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})

    values = scrape_values(response.content.decode())
    assert values[("generation_queue_depth", frozenset())] == 4
    count = values[("generation_admission_wait_seconds_count", frozenset())]
    assert count == waited + 2
    at_once = values[("generation_admission_wait_seconds_bucket", frozenset({("le", "0.0")}))]
    assert at_once == quick + 1
    set_queue_depth(0)


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


# --- After real AI calls ------------------------------------------------------------------


def scrape_values(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a /metrics text, by name and labels."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def auth(user) -> dict[str, str]:
    from studio.api.actions import create_api_key

    return {"Authorization": f"Bearer {create_api_key(user=user, name='metrics')[1]}"}


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    return scrape_values(response.content.decode())


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_metrics_count_real_calls_through_the_api(
    settings, workspace, product_template, product_inputs, auth
):
    """A generation into a draft and two OpenAI-compatible calls, one of which DeepSeek
    refuses: each is counted once, by model and outcome, with its time, tokens and cost."""
    settings.METRICS_TOKEN = "scrape-me"
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1  # the refusal surfaces at once
    client = AsyncClient()
    refusal = httpx.Response(402, content=b'{"error":{"message":"Insufficient Balance"}}')
    respx.post(CHAT_URL).mock(
        side_effect=[sse_response(sse_body(["Warm ", "light."])), completion(), refusal]
    )
    before = await scrape(client)

    generated = await client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs, "wait": True},
        content_type="application/json",
        headers=auth,
    )
    chat = {"model": "deepseek-flash", "messages": [{"role": "user", "content": "A tagline"}]}
    answered, refused = [
        await client.post(
            "/api/ai/v1/chat/completions", chat, content_type="application/json", headers=auth
        )
        for _ in range(2)
    ]
    after = await scrape(client)

    # DeepSeek's 402 (balance) is a 402 the caller's SDK does not retry (docs/api.md#errors).
    assert (generated.status_code, answered.status_code, refused.status_code) == (201, 200, 402)
    model = generated.json()["model"]
    assert model == "deepseek-flash"

    def grew(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("ai_request_total", model=model, status="ok") == 2
    assert grew("ai_request_total", model=model, status="failed") == 1
    assert grew("ai_error_count_total", kind="InsufficientBalance") == 1
    assert grew("ai_response_time_seconds_count", model=model) == 3
    assert grew("ai_response_time_seconds_bucket", model=model, le="+Inf") == 3
    assert grew("ai_time_to_first_token_seconds_count", model=model) >= 1  # the stream's
    assert grew("ai_tokens_total", model=model, kind="prompt") == 2 * USAGE["prompt_tokens"]
    assert grew("ai_tokens_total", model=model, kind="completion") == 2 * USAGE["completion_tokens"]
    assert grew("ai_cost_usd_total", model=model) > 0
    assert after[("ai_open_streams", frozenset())] == before.get(("ai_open_streams", frozenset()))


# --- Several worker processes -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
COUNT_ONE_CALL = """
import os, django
django.setup()
from studio.audit.metrics import (
    OPEN_STREAMS, observe_admission_wait, observe_ai_call, set_queue_depth
)
observe_ai_call(model="deepseek-flash", status="ok", latency_s=1.5, prompt_tokens=10,
                completion_tokens=4, cost=0.01)
OPEN_STREAMS.inc()  # a stream still open when this "worker" is looked at
set_queue_depth(3)  # and three generations waiting for a slot in it
observe_admission_wait(1.5)
print(os.getpid())
"""
SCRAPE = """
import sys, django
django.setup()
from django.test import Client
from studio.audit.metrics import process_exiting
for pid in sys.argv[1:]:
    process_exiting(int(pid))
response = Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"})
assert response.status_code == 200, response.status_code
sys.stdout.write(response.content.decode())
"""


def _python(code: str, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 — our own code, fixed arguments
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_several_processes_are_summed_with_prometheus_multiproc_dir(tmp_path):
    """Two "workers" each count a call, as uvicorn's workers do; a third answers /metrics
    with both. Open streams add up over the living workers only."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "METRICS_TOKEN": "scrape-me",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),  # made on first use
    }
    first, _second = (_python(COUNT_ONE_CALL, env=env).strip() for _ in range(2))

    both = scrape_values(_python(SCRAPE, env=env))
    one_left = scrape_values(_python(SCRAPE, first, env=env))

    labels = frozenset({"model": "deepseek-flash", "status": "ok"}.items())
    assert both[("ai_request_total", labels)] == 2
    tokens = frozenset({"model": "deepseek-flash", "kind": "prompt"}.items())
    assert both[("ai_tokens_total", tokens)] == 20
    assert (
        both[("ai_response_time_seconds_count", frozenset({"model": "deepseek-flash"}.items()))]
        == 2
    )
    assert both[("ai_open_streams", frozenset())] == 2
    assert one_left[("ai_open_streams", frozenset())] == 1  # the first worker has exited
    assert one_left[("ai_request_total", labels)] == 2  # what it counted stays counted
    # The generations waiting for a slot: the instance's line, over the living workers.
    assert both[("generation_queue_depth", frozenset())] == 6
    assert one_left[("generation_queue_depth", frozenset())] == 3
    assert both[("generation_admission_wait_seconds_count", frozenset())] == 2
    breaker = ("ai_circuit_breaker_state", frozenset({"upstream": "deepseek"}.items()))
    assert both[breaker] == 0  # read from the shared cache by the process that answered


def test_one_process_without_the_directory_serves_its_own_registry(settings):
    from studio.audit import metrics

    assert metrics.MULTIPROC_DIR == ""  # this test process: no multiprocess mode
    assert metrics.exposition() == generate_latest(metrics.REGISTRY)
