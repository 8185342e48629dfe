"""Injected upstream and client faults: nothing the upstream sent is ever lost or duplicated.

Each test drives the real studio (uvicorn, real sockets) against the offline DeepSeek server
and compares what was stored and shown with the bytes the upstream actually sent.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import httpx
import pytest
from django.db import connection

from drafts import generation as runner
from drafts.models import Generation
from studio.asgi import application
from studio.streams import relay
from tests.faults.conftest import STATS, StudioSession, appended_text, parse_frame
from tests.servers import run_asgi

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(user, workspace, product_template, product_inputs):
    return {
        "workspace": workspace.pk,
        "version": product_template.current_version().pk,
        "inputs": product_inputs,
    }


@pytest.fixture
def session(studio, ready) -> StudioSession:
    session = StudioSession(studio)
    session.log_in("hamlet", "pw-hamlet-123")
    return session


@pytest.fixture(autouse=True)
def no_leaks(request):
    """After each fault: no runner task left, and no database connections piling up."""
    yield
    tasks = runner.GENERATIONS.tasks
    assert not tasks, f"runner tasks left: {list(tasks)}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT state FROM pg_stat_activity WHERE datname = current_database()")
            states = [state for (state,) in cursor.fetchall()]
        # Bounded by the worker's pool however many streams ran, and none left mid-transaction.
        assert len(states) <= connection.settings_dict["OPTIONS"]["pool"]["max_size"] + 1
        assert "idle in transaction" not in states


def start(session: StudioSession, ready: dict, marker: str, directive: str = "") -> int:
    inputs = {**ready["inputs"], "product_name": marker, "features": f"Lamp {directive}"}
    STATS["generations"] += 1
    return session.generate(ready["workspace"], ready["version"], inputs)


def _patient(settings) -> None:
    """Timeouts that a busy machine does not trip: the fixture's tight ones are for the
    timeout faults, and a test run on every core can starve a stream for half a second."""
    settings.DEEPSEEK_FIRST_TOKEN_TIMEOUT = settings.DEEPSEEK_IDLE_TIMEOUT = 30.0


def test_disconnect_and_reconnect_with_last_event_id_loses_and_repeats_nothing(
    session, ready, upstream, settings
):
    _patient(settings)
    generation_id = start(session, ready, "reconnect-1", "[[sim:tokens=400]]")
    STATS["faults"] += 1

    first = session.events(generation_id, limit=2)  # the tab goes away mid-stream…
    last_id = [f.id for f in first if f.id is not None][-1]
    rest = session.events(generation_id, last_event_id=last_id)  # …and comes back

    generation = Generation.objects.get(pk=generation_id)
    sent = upstream[1].sent_text("reconnect-1")
    assert generation.status == "done"
    assert appended_text(first) + appended_text(rest) == generation.text == sent
    assert rest[-1].event == "done" and sum(f.event == "done" for f in rest) == 1


def test_two_viewers_of_one_stream_see_the_same_whole_text(
    session, studio, ready, upstream, settings
):
    _patient(settings)
    other = StudioSession(studio)
    other.log_in("hamlet", "pw-hamlet-123")
    generation_id = start(session, ready, "two-viewers", "[[sim:tokens=300]]")

    with ThreadPoolExecutor(2) as pool:
        watched = list(pool.map(lambda s: s.events(generation_id), [session, other]))

    sent = upstream[1].sent_text("two-viewers")
    assert appended_text(watched[0]) == appended_text(watched[1]) == sent
    assert Generation.objects.get(pk=generation_id).text == sent


FAULTS = [
    # directive, status, error class, text expected before the fault
    ("[[sim:cut_after=40]]", "failed", "StreamTruncated", True),
    ("[[sim:stall_after=40]]", "failed", "UpstreamTimeout", True),
    ("[[sim:malformed_after=40]]", "failed", "ProtocolError", True),
    ("[[sim:error=429]] [[sim:retry_after=0]]", "failed", "RateLimited", False),
    ("[[sim:error=503]]", "failed", "Overloaded", False),
    ("[[sim:error=402]]", "failed", "InsufficientBalance", False),
    ("[[sim:first_token_delay=5]]", "failed", "UpstreamTimeout", False),
]


@pytest.mark.parametrize("directive, status, error, has_text", FAULTS)
def test_upstream_faults_keep_exactly_what_was_sent_and_say_what_happened(
    session, ready, upstream, directive, status, error, has_text
):
    marker = f"fault-{re.sub(r'[^a-z0-9]+', '-', directive)}"
    generation_id = start(session, ready, marker, directive)
    STATS["faults"] += 1

    frames = session.events(generation_id)

    generation = Generation.objects.get(pk=generation_id)
    sent = upstream[1].sent_text(marker) if has_text else ""
    assert (generation.status, generation.error_code) == (status, error)
    assert generation.text == appended_text(frames) == sent
    assert bool(sent) is has_text
    if has_text:
        assert generation.version.text == sent  # kept as a version, marked by its generation
    final = unescape(frames[-1].data)
    assert frames[-1].event == "done" and generation.error_message in final
    STATS["lost"] += len(sent) - len(generation.text)


def test_stop_keeps_exactly_what_was_shown(session, ready, upstream):
    generation_id = start(session, ready, "stop-now", "[[sim:tokens=3000]]")
    shown = session.events(generation_id, limit=2)

    session.stop(generation_id)
    rest = session.events(generation_id, last_event_id=[f.id for f in shown if f.id][-1])

    generation = Generation.objects.get(pk=generation_id)
    assert generation.status == "cancelled"
    assert appended_text(shown) + appended_text(rest) == generation.text
    assert upstream[1].sent_text("stop-now").startswith(generation.text)


def test_a_worker_restart_mid_stream_leaves_the_generation_interrupted_not_running(
    settings, upstream, ready
):
    settings.DEEPSEEK_BASE_URL = upstream[0]
    with run_asgi(application) as base:
        session = StudioSession(base)
        session.log_in("hamlet", "pw-hamlet-123")
        generation_id = start(session, ready, "restart", "[[sim:tokens=5000]]")
        shown = session.events(generation_id, limit=2)
    STATS["faults"] += 1  # the server above has shut down mid-generation…
    runner.GENERATIONS.logs.clear()  # …and a new process starts with none of the old one's memory

    with run_asgi(application) as base:
        session = StudioSession(base)
        session.log_in("hamlet", "pw-hamlet-123")
        frames = session.events(generation_id)
        page = session.http.get(f"/drafts/{Generation.objects.get(pk=generation_id).draft_id}/")

    generation = Generation.objects.get(pk=generation_id)
    assert generation.status == "interrupted"
    assert generation.text.startswith(appended_text(shown))
    assert upstream[1].sent_text("restart").startswith(generation.text)
    # Watched after its end: only the end, or with Redis the new process replays the mirror
    # the old one left (its text, exactly as saved), then the end.
    assert appended_text(frames) == (generation.text if relay.enabled() else "")
    assert [f.event for f in frames if f.event not in {"delta", "block"}] == ["done"]
    assert "Interrupted" in page.text and "Continue" in page.text


def test_two_hundred_concurrent_generations_lose_nothing(
    session, ready, upstream, studio, settings
):
    settings.RATELIMIT_RATE = "1000/m"  # one user starting 200 at once: not what this tests
    _patient(settings)  # nor are timeouts (200 starved streams would open the breaker)
    cookies = dict(session.http.cookies)
    headers = session.headers()
    refused: list[int] = []

    async def one(http: httpx.AsyncClient, n: int) -> tuple[int, str]:
        inputs = {
            **ready["inputs"],
            "product_name": f"bulk-{n}-end",
            "features": "[[sim:tokens=60]]",
        }
        # More Generates at once than one worker's database connections serve within their
        # wait (on a slow machine): the last are refused, 503 with Retry-After, saving
        # nothing (studio/busy.py); pressed again after it, they go through. Never a 500.
        for _ in range(10):
            response = await http.post(
                f"/w/{ready['workspace']}/generate/",
                data={"version": ready["version"], **inputs},
                headers=headers,
            )
            if response.status_code != 503:
                break
            refused.append(n)
            await asyncio.sleep(int(response.headers["Retry-After"]))
        assert response.status_code == 200, (response.status_code, response.text[:500])
        match = re.search(r"/generations/(\d+)/events/", response.text)
        assert match, (response.status_code, response.text[:500])
        generation_id = int(match.group(1))
        frames, block = [], []
        async with http.stream("GET", f"/generations/{generation_id}/events/") as stream:
            async for line in stream.aiter_lines():
                if line:
                    block.append(line)
                    continue
                if (frame := parse_frame(block)) is not None:
                    frames.append(frame)
                    if frame.event == "done":
                        break
                block = []
        return generation_id, appended_text(frames)

    async def all_of_them() -> list[tuple[int, str]]:
        # A kept-alive connection may be closed by the server just as a request goes out on
        # it: under load the client's loop lags for seconds, and the request failed with
        # ReadError (at httpx's default 5 s expiry, and on a slow machine at 1 s too). A
        # browser retries such a GET; this client opens a new connection for every request.
        limits = httpx.Limits(max_connections=400, keepalive_expiry=0)
        async with httpx.AsyncClient(
            base_url=studio, cookies=cookies, timeout=60, limits=limits
        ) as http:
            return await asyncio.gather(*(one(http, n) for n in range(200)))

    results = asyncio.run(all_of_them())
    STATS["generations"] += len(results)

    stored = dict(
        Generation.objects.filter(pk__in=[g for g, _ in results]).values_list("pk", "text")
    )
    for n, (generation_id, shown) in enumerate(results):
        sent = upstream[1].sent_text(f"bulk-{n}-end")
        assert shown == stored[generation_id] == sent, n
        STATS["lost"] += len(sent) - len(stored[generation_id])
    assert Generation.objects.filter(pk__in=stored, status="done").count() == 200
    # Each refusal stored nothing: 200 presses that went through, 200 generations.
    assert Generation.objects.filter(inputs__product_name__startswith="bulk-").count() == 200
    STATS["busy"] += len(refused)
