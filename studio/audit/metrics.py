"""Prometheus metrics for AI calls, on a registry of the studio's own.

A dedicated registry (not prometheus-client's global one) keeps ``/metrics`` to the studio's
series and lets tests read values without the process collectors.

One process (``manage.py serve``): the registry is the whole truth. Several worker processes
(the Docker image's uvicorn ``--workers``): with PROMETHEUS_MULTIPROC_DIR set, each process
writes its values to files there (prometheus_client's multiprocess mode, chosen when it is
imported) and ``/metrics`` sums every process's files (``exposition``), so any worker answers
for the whole instance. Gauges say how to combine processes: open streams add up over the
living ones; the breaker state, which every process reads from the shared cache, is the most
recently published value; the generations queued for a slot add up over the living ones.
Scrape every instance.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from studio import busy, degraded
from studio.deepseek.pricing import DEFAULT_PRICES

# What prometheus_client saw when it was imported (just now, above): it decides then.
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    # Each metric below opens its file there at once: a missing directory (a fresh container,
    # a command run before the entry command made it) would fail the import.
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds; generations run from under a second to several minutes.
_LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
_TTFT_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 60, 120)

REQUESTS = Counter(
    "ai_request", "AI calls by model and outcome.", ["model", "status"], registry=REGISTRY
)
RESPONSE_TIME = Histogram(
    "ai_response_time_seconds",
    "Wall time of an AI call, request to last token.",
    ["model"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TTFT = Histogram(
    "ai_time_to_first_token_seconds",
    "Time from sending an AI request to its first text.",
    ["model"],
    buckets=_TTFT_BUCKETS,
    registry=REGISTRY,
)
ERRORS = Counter("ai_error_count", "Failed AI calls by error kind.", ["kind"], registry=REGISTRY)
TOKENS = Counter(
    "ai_tokens",
    "Tokens used, by model and kind (prompt, completion).",
    ["model", "kind"],
    registry=REGISTRY,
)
COST = Counter("ai_cost_usd", "Cost of AI calls in US dollars.", ["model"], registry=REGISTRY)
OPEN_STREAMS = Gauge(
    "ai_open_streams",
    "AI response streams open now.",
    registry=REGISTRY,
    multiprocess_mode="livesum",  # the instance's streams: each living worker's, added up
)
CACHE = Counter(
    "ai_cache",
    "Response-cache lookups by result (hit, miss, bypass).",
    ["result"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "ai_rate_limited", "Requests refused by a rate limit, by scope.", ["scope"], registry=REGISTRY
)
BREAKER = Gauge(
    "ai_circuit_breaker_state",
    "Upstream circuit breaker: 0 closed, 1 half-open, 2 open.",
    ["upstream"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # one shared breaker: the latest reading of it
)
# The shared cache's outages (studio.degraded, a layer below, defines them).
REGISTRY.register(degraded.ERRORS)
REGISTRY.register(degraded.DOWN)
# Requests refused because the database was too busy to wait for (studio.busy).
REGISTRY.register(busy.BUSY)
_BREAKER_STATES = {"closed": 0, "half_open": 1, "half-open": 1, "open": 2}
# The generation sweeper (drafts/sweeper.py): alert when generations keep being swept (runners
# lost: crashes, killed workers), when sweeps stop (the serving process's sweeper is gone) or
# when the longest-running generation has run longer than any generation can.
SWEEPS = Counter(
    "generation_sweeps", "Sweeps for generations whose runner is gone.", registry=REGISTRY
)
SWEPT = Counter(
    "generation_swept",
    "Generations the sweeper ended as interrupted because no process ran them any more.",
    registry=REGISTRY,
)
OLDEST_ACTIVE = Gauge(
    "generation_oldest_active_age_seconds",
    "Seconds the longest-running generation has run since its request went out, at the last "
    "sweep (0: none); time in line is generation_admission_wait_seconds.",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # one database: the latest reading of it
)
# Admission (studio.streams.admission, GENERATION_MAX_RUNNING): generations waiting for a slot
# in their worker, and how long each waited (0 for the many that never did).
QUEUE_DEPTH = Gauge(
    "generation_queue_depth",
    "Generations waiting for a slot in their worker now (GENERATION_MAX_RUNNING).",
    registry=REGISTRY,
    multiprocess_mode="livesum",  # the instance's line: each living worker's, added up
)
ADMISSION_WAIT = Histogram(
    "generation_admission_wait_seconds",
    "Time a generation waited for a slot in its worker before it started (0: none).",
    buckets=(0, 0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
    registry=REGISTRY,
)

# Statuses an AI call can end with that count as errors in ai_error_count.
_ERROR_STATUSES = {"failed", "error", "interrupted"}


def observe_ai_call(
    *,
    model: str,
    status: str,
    latency_s: float | None = None,
    ttft_s: float | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    cost: Decimal | float | None = None,
    error_kind: str = "",
) -> None:
    """Count one finished AI call (any outcome) in the Prometheus series.

    ``status`` is the outcome (``ok``/``done``, ``failed``, ``cancelled``, ``interrupted`` …);
    ``error_kind`` (e.g. the DeepSeek error class name) is counted in ``ai_error_count`` for a
    failed call, ``unknown`` when not given.
    """
    model = model_label(model)
    status = "ok" if status == "done" else status
    REQUESTS.labels(model=model, status=status).inc()
    if latency_s is not None:
        RESPONSE_TIME.labels(model=model).observe(latency_s)
    if ttft_s is not None:
        TTFT.labels(model=model).observe(ttft_s)
    if status in _ERROR_STATUSES or error_kind:
        ERRORS.labels(kind=error_kind or "unknown").inc()
    if prompt_tokens:
        TOKENS.labels(model=model, kind="prompt").inc(prompt_tokens)
    if completion_tokens:
        TOKENS.labels(model=model, kind="completion").inc(completion_tokens)
    if cost:
        COST.labels(model=model).inc(float(cost))


def model_label(model: str) -> str:
    """The ``model`` label for a model name: API callers choose the name they send, so only
    models the studio knows (configured or priced) get a series of their own; every other
    name counts as ``other``, keeping the label's values bounded."""
    known = {
        settings.DEEPSEEK_MODEL,
        settings.DEEPSEEK_REASONING_MODEL,
        *DEFAULT_PRICES,
        *settings.DEEPSEEK_PRICES,
    }
    return model if model in known else ("other" if model else "unknown")


def observe_cache(result: str) -> None:
    """Count a response-cache lookup: ``hit``, ``miss`` or ``bypass``."""
    CACHE.labels(result=result).inc()


def observe_rate_limited(scope: str) -> None:
    RATE_LIMITED.labels(scope=scope).inc()


def set_breaker_state(state: str, *, upstream: str = "deepseek") -> None:
    """Publish the circuit breaker's state (``closed``, ``half_open`` or ``open``)."""
    BREAKER.labels(upstream=upstream).set(_BREAKER_STATES[state])


def observe_sweep(*, settled: int, oldest_active_age: float | None) -> None:
    """Count one sweep, the generations it settled, and the oldest still active."""
    SWEEPS.inc()
    if settled:
        SWEPT.inc(settled)
    OLDEST_ACTIVE.set(max(oldest_active_age or 0.0, 0.0))


@contextmanager
def open_stream() -> Iterator[None]:
    """Count a response stream as open for as long as the block runs."""
    OPEN_STREAMS.inc()
    try:
        yield
    finally:
        OPEN_STREAMS.dec()


def set_queue_depth(depth: int) -> None:
    """How many generations wait for a slot in this worker now."""
    QUEUE_DEPTH.set(depth)


def observe_admission_wait(seconds: float) -> None:
    """How long one generation waited for its slot (0: it started at once)."""
    ADMISSION_WAIT.observe(seconds)


def exposition() -> bytes:
    """The ``/metrics`` text: this process's series, or (PROMETHEUS_MULTIPROC_DIR) those of
    every process that wrote to the directory, combined by prometheus_client."""
    if not MULTIPROC_DIR:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=MULTIPROC_DIR)
    return generate_latest(registry)


def process_exiting(pid: int | None = None) -> None:
    """A worker process is ending: its open-streams gauge no longer counts (the live modes).
    Counters and histograms keep its files: what it counted stays counted."""
    if MULTIPROC_DIR:
        mark_process_dead(pid or os.getpid(), path=MULTIPROC_DIR)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of one series (0 when it has not been observed yet)."""
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0
