"""Injected infrastructure faults: nothing the upstream generated is lost, nothing is stuck.

Two real studio worker processes (uvicorn) on PostgreSQL and a Redis of the suite's own, the
offline DeepSeek server recorded; each fault hits a real process or service (kill -9, SIGTERM,
``pg_terminate_backend``, Redis killed and started again). Every generation is checked three
ways: what a watcher saw over SSE, the stored text, and what the upstream generated; and every
generation started after a fault must complete exactly.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from drafts.models import Generation
from tests.infra_faults.conftest import (
    HEARTBEAT_TTL,
    PASSWORD,
    STATS,
    Checked,
    Client,
    Cluster,
    Watcher,
    count_stuck,
    generation_id,
    wait_for,
)

if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    pytest.skip(
        "the infrastructure fault suite runs the studio's workers on PostgreSQL (it terminates "
        "their connections with pg_terminate_backend): set DATABASE_URL=postgres://...",
        allow_module_level=True,
    )

pytestmark = pytest.mark.django_db(transaction=True)

# A dead runner's heartbeat outlives it HEARTBEAT_TTL; the sweeper (every 0.5 s here) settles
# an orphan seen without one for HEARTBEAT_TTL more: within SETTLE.
# After connections are terminated, the psycopg pool may make a save wait its whole `timeout`
# (30 s, studio/settings.py) for a new connection (seen in CI under load), then it completes.
POOL_TIMEOUT = 30
SETTLE = max(2 * HEARTBEAT_TTL + 16, POOL_TIMEOUT + 15)
# The upstream holds short answers in its queue (keep-alives) this long before the first
# token: the watcher, started once the Generate post has answered, is then surely there for
# every token even on a busy machine (one that comes after the end sees only the final panel).
QUEUED = "[[sim:first_token_delay=1]]"
DRAIN_BOUND = 30  # a worker told to stop (SIGTERM) has exited within this many seconds


@pytest.fixture
def ready(user, workspace, product_template, product_inputs):
    # The workers hash with Django's default hashers (the suite's MD5 is only this process's):
    # PBKDF2, with few iterations so that logging in stays quick.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "infrasalt", iterations=1000)
    user.save(update_fields=["password"])
    return {
        "workspace": workspace.pk,
        "version": product_template.current_version().pk,
        "inputs": product_inputs,
    }


@pytest.fixture(autouse=True)
def recovered(request, transactional_db, cluster: Cluster):
    """Each test starts with both workers and Redis up (a fault before may have taken one
    down: a fresh one is started, as a supervisor would), and ends with no generation left
    running before its rows are flushed."""
    if not cluster.redis.answers():
        cluster.redis.kill()
        cluster.redis.start()
    cluster.restart()
    yield
    active = Generation.objects.filter(status__in=Generation.ACTIVE)
    try:
        wait_for(lambda: not active.exists(), 5, "the last generations to end")
    except AssertionError:
        left = list(active.values_list("pk", "status"))
        count_stuck(pk for pk, _ in left)
        cluster.tainted = True
    else:
        left = []
    report = getattr(request.node, "report_call", None)
    if cluster.tainted or report is None or report.failed:
        # A failed test may leave its workers broken (say a database connection the studio
        # did not heal): the next test gets fresh ones, so that each fails for its own fault.
        cluster.tainted = False
        cluster.restart(*cluster.workers)
        active.update(status=Generation.Status.INTERRUPTED)  # no process runs them any more
    if report is not None and report.passed:
        assert not left, f"generations stuck after the test: {left}"


@pytest.fixture
def session(cluster: Cluster, ready) -> Iterator[Client]:
    session = Client(cluster.a.url)
    yield session
    session.http.close()


def start(session: Client, base: str, ready: dict, tokens: int, directive: str = "") -> tuple:
    """Start a generation the way the browser does (the Generate form, over htmx) on the
    worker at ``base``; returns its id and the marker that finds its upstream request. A user
    who gets an error page clicks again: up to three tries."""
    marker = f"infra{uuid.uuid4().hex[:12]}x"
    inputs = {
        **ready["inputs"],
        "product_name": marker,
        "features": f"Lamp [[sim:tokens={tokens}]] {directive}",
    }
    for attempt in range(3):
        try:
            response = session.post_generate(base, ready, inputs)
        except httpx.TransportError as exc:
            response = exc
        if isinstance(response, httpx.Response) and response.status_code < 500:
            break
        time.sleep(0.2 * (attempt + 1))
    STATS["generations"] += 1
    assert isinstance(response, httpx.Response), f"{marker}: {response!r}"
    return generation_id(response), marker


def watch(session: Client, generation: int, *bases: str, timeout: float = 40) -> Watcher:
    return Watcher(session.http.cookies, generation, list(bases), timeout=timeout).start()


def settle(*ids: int, timeout: float = SETTLE) -> None:
    """Until every one of ``ids`` has ended; those that have not are counted as stuck."""
    active = Generation.objects.filter(pk__in=ids, status__in=Generation.ACTIVE)
    try:
        wait_for(lambda: not active.exists(), timeout, f"generations {ids} to end")
    except AssertionError:
        stuck = list(active.values_list("pk", "status", "text"))
        count_stuck(pk for pk, _, _ in stuck)
        described = [(pk, status, f"{len(text)} characters stored") for pk, status, text in stuck]
        raise AssertionError(f"stuck after {timeout} s: {described}") from None


def check(cluster: Cluster, generation: int, marker: str, watcher: Watcher | None) -> Checked:
    """The generation's three texts (after it ended), its lost characters counted."""
    if watcher is not None:
        watcher.join()
    row = Generation.objects.get(pk=generation)
    checked = Checked(
        generation,
        marker,
        row.status,
        cluster.upstream.sent_text(marker),
        row.text,
        None if watcher is None or watcher.came_after_end else watcher.text,
    )
    STATS["lost"] += checked.lost
    return checked


def assert_exact(checked: Checked, watcher: Watcher | None = None) -> None:
    """Done, and the watcher saw, the database holds and the upstream generated one text."""
    detail = checked.describe()
    if watcher is not None:
        detail += f"; watcher: done={watcher.done}, {watcher.reconnects} reconnects"
        detail += f", errors {watcher.errors[-3:]}"
    assert checked.status == "done", detail
    assert checked.sent, detail
    assert checked.stored == checked.sent, detail
    if checked.seen is not None:
        assert watcher is None or watcher.done, detail
        assert checked.seen == checked.sent, detail


def assert_kept(checked: Checked) -> None:
    """Ended otherwise (interrupted): the stored text is what the upstream generated, or its
    beginning, never text it did not."""
    assert checked.sent.startswith(checked.stored), checked.describe()


def exact_after(cluster: Cluster, session: Client, ready: dict, tokens: int = 200) -> None:
    """Generations started after a fault, one on each worker, each watched on the other
    (through the Redis relay), complete exactly."""
    started, watchers = [], []
    for base, other in [(cluster.a.url, cluster.b.url), (cluster.b.url, cluster.a.url)]:
        generation, marker = start(session, base, ready, tokens, QUEUED)
        started.append((generation, marker, other))
        watchers.append(watch(session, generation, other))
    settle(*(g for g, _, _ in started))
    for (g, marker, _), watcher in zip(started, watchers, strict=True):
        assert_exact(check(cluster, g, marker, watcher), watcher)


def test_kill_9_of_the_runners_worker_keeps_its_saved_text_and_the_sweeper_ends_it(
    cluster, session, ready
):
    # The upstream sends 60 tokens, then nothing: the runner has saved all of it when it dies.
    generation, marker = start(session, cluster.a.url, ready, 400, "[[sim:stall_after=60]]")
    watcher = watch(session, generation, cluster.b.url, timeout=SETTLE + 10)

    def saved_all() -> bool:
        sent = cluster.upstream.sent_text(marker)
        return bool(sent) and Generation.objects.get(pk=generation).text == sent

    wait_for(saved_all, 10, f"generation {generation}'s text to be saved")
    cluster.a.kill(signal.SIGKILL)
    cluster.a.wait_exit(5)
    STATS["faults"] += 1

    settle(generation)
    checked = check(cluster, generation, marker, watcher)
    assert checked.status == "interrupted", checked.describe()
    assert checked.stored == checked.sent, checked.describe()
    # The watcher on the other worker saw it all through Redis, then was told it ended.
    assert watcher.done and checked.seen == checked.sent, (checked.describe(), watcher.errors)

    cluster.a.ensure_running()
    exact_after(cluster, session, ready)


def test_kill_9_of_the_worker_serving_the_stream_the_watcher_resumes_on_the_other(
    cluster, session, ready
):
    generation, marker = start(session, cluster.a.url, ready, 1000)
    # The tab watches on B (through Redis); B dies; its EventSource reconnects to A.
    watcher = watch(session, generation, cluster.b.url, cluster.a.url)
    assert watcher.first_delta.wait(10), watcher.errors
    cluster.b.kill(signal.SIGKILL)
    cluster.b.wait_exit(5)
    STATS["faults"] += 1

    settle(generation)
    checked = check(cluster, generation, marker, watcher)
    assert_exact(checked, watcher)
    assert watcher.reconnects >= 1, checked.describe()

    cluster.b.ensure_running()
    exact_after(cluster, session, ready)


def test_database_connections_terminated_while_idle(cluster, session, ready):
    exact_after(cluster, session, ready)  # both workers hold connections (runners' included)
    assert cluster.terminate_connections() > 0
    STATS["faults"] += 1

    exact_after(cluster, session, ready)


def test_database_connections_terminated_mid_stream(cluster, session, ready):
    generation, marker = start(session, cluster.a.url, ready, 1000)
    watcher = watch(session, generation, cluster.b.url, cluster.a.url)
    wait_for(
        lambda: Generation.objects.get(pk=generation).text,
        10,
        f"generation {generation} to save some text",
    )
    assert cluster.terminate_connections() > 0
    STATS["faults"] += 1

    settle(generation)
    assert_exact(check(cluster, generation, marker, watcher), watcher)
    exact_after(cluster, session, ready)


def test_database_connections_terminated_as_the_generation_ends(cluster, session, ready):
    exact_after(cluster, session, ready)  # both workers hold connections
    terminated = []
    generation, marker = start(session, cluster.a.url, ready, 400)
    # Right before the upstream sends the final chunk: the runner saves the end next.
    cluster.upstream.at_finish[marker] = lambda: terminated.append(cluster.terminate_connections())
    watcher = watch(session, generation, cluster.b.url, cluster.a.url)

    settle(generation)
    assert terminated and terminated[0] > 0, "the fault did not run"
    STATS["faults"] += 1
    assert_exact(check(cluster, generation, marker, watcher), watcher)
    exact_after(cluster, session, ready)


def test_redis_killed_and_restarted_mid_stream(cluster, session, ready):
    # Two long generations on A: one to finish, one to be stopped from B after the outage.
    generation, marker = start(session, cluster.a.url, ready, 6000)
    # Streams a while, then waits (no end of its own): on a busy machine the outage and the
    # heartbeats' return may outlast a whole answer, and a Stop must find it running.
    stopped, stopped_marker = start(session, cluster.a.url, ready, 6000, "[[sim:stall_after=2000]]")
    watcher = watch(session, generation, cluster.b.url, cluster.a.url)
    # The stopped one is watched on its runner's worker: what it was shown is what it keeps.
    stopped_watcher = watch(session, stopped, cluster.a.url)
    assert watcher.first_delta.wait(10), watcher.errors

    def stored_length() -> int:
        return len(Generation.objects.get(pk=generation).text)

    cluster.redis.kill()
    STATS["faults"] += 1
    down, at_kill = time.monotonic(), stored_length()
    # Down for longer than a heartbeat's period (every runner tries to beat meanwhile), and
    # the stream goes on without Redis: more text is saved while it is down.
    wait_for(
        lambda: time.monotonic() - down > HEARTBEAT_TTL / 3 + 0.5 and stored_length() > at_kill,
        15,
        "the stream to go on without Redis",
    )
    cluster.redis.start()

    # The runners' heartbeats are back within a beat of Redis answering again (else another
    # worker's sweeper takes a running generation for an orphan and ends it).
    keys = [f":1:studio:generation-alive:{g}" for g in (generation, stopped)]
    try:
        wait_for(
            lambda: all(cluster.redis.command("EXISTS", key).startswith(b":1") for key in keys),
            HEARTBEAT_TTL / 3 + 2,
            "the heartbeats to come back",
        )
        heartbeats = []
    except AssertionError:
        heartbeats = [key for key in keys if cluster.redis.command("EXISTS", key)[:2] != b":1"]
    # Its upstream answer is far from over here (6000 tokens); one that has ended already
    # was taken for an orphan (no heartbeat) and ended by a sweeper.
    ended_early = Generation.objects.get(pk=generation).status
    ended_early = "" if ended_early in Generation.ACTIVE else ended_early
    # A tab opened on B after the outage reads the whole stream from the Redis mirror.
    late = watch(session, generation, cluster.b.url)
    # A Stop asked on B reaches the runner on A (its Stop listener survived the outage).
    response = session.stop(cluster.b.url, stopped)
    assert response.status_code == 204, response.text[:300]

    settle(generation, stopped)
    checked = check(cluster, generation, marker, watcher)
    late.join()
    stop = check(cluster, stopped, stopped_marker, stopped_watcher)
    # Each outcome on its own: one failure does not hide the others.
    problems = [f"no heartbeat after Redis came back: {heartbeats}"] if heartbeats else []
    if ended_early:
        problems.append(
            f"generation {generation} was already {ended_early} a beat after Redis came back, "
            "its upstream answer still streaming"
        )
    try:
        assert_exact(checked, watcher)
    except AssertionError as exc:
        problems.append(f"the generation across the outage: {exc}")
    if not (late.done and late.text == checked.sent):
        problems.append(
            f"a tab opened on B after the outage saw {len(late.text)} characters "
            f"(done={late.done}, errors {late.errors[-2:]}) of {checked.describe()}"
        )
    if stop.status != "cancelled" or not stop.sent.startswith(stop.stored) or stop.lost:
        problems.append(f"Stop asked on B after the outage: {stop.describe()}")
    assert not problems, "\n".join(problems)
    exact_after(cluster, session, ready)


def test_sigterm_with_streams_open_ends_every_generation_and_the_worker(cluster, session, ready):
    started = [start(session, cluster.a.url, ready, 800) for _ in range(3)]
    # Each tab watches on A (the runner's own log); when A goes, it reconnects to B.
    watchers = [watch(session, g, cluster.a.url, cluster.b.url) for g, _ in started]
    for watcher in watchers:
        assert watcher.first_delta.wait(10), watcher.errors
    cluster.a.kill(signal.SIGTERM)
    STATS["faults"] += 1

    # A draining worker takes no new generation it would then abandon: it refuses (503) or
    # does not answer; never a server error. The user starts it on B instead.
    try:
        refused = session.post_generate(cluster.a.url, ready, ready["inputs"])
    except httpx.TransportError:
        pass
    else:
        assert refused.status_code in (503,), (refused.status_code, refused.text[:300])
    during = start(session, cluster.b.url, ready, 200, QUEUED)
    during_watcher = watch(session, during[0], cluster.b.url)

    cluster.a.wait_exit(DRAIN_BOUND)
    settle(*(g for g, _ in started), during[0])
    for (g, marker), watcher in zip(started, watchers, strict=True):
        checked = check(cluster, g, marker, watcher)
        if checked.status == "done":
            assert_exact(checked, watcher)
        else:  # cut off by the drain's bound: kept as it stood, and the tab was told
            assert checked.status == "interrupted", checked.describe()
            assert_kept(checked)
            assert watcher.done, (checked.describe(), watcher.errors)
    assert_exact(check(cluster, *during, during_watcher), during_watcher)

    cluster.a.ensure_running()
    exact_after(cluster, session, ready)


def test_a_burst_of_concurrent_generations_across_both_workers(cluster, session, ready):
    count = 32
    bases = [cluster.a.url, cluster.b.url]
    STATS["faults"] += 1

    def one(n: int) -> tuple[int, str, Watcher]:
        generation, marker = start(session, bases[n % 2], ready, 200, QUEUED)
        return generation, marker, watch(session, generation, bases[(n + 1) % 2])

    with ThreadPoolExecutor(count) as pool:
        started = list(pool.map(one, range(count)))
    settle(*(g for g, _, _ in started))
    for generation, marker, watcher in started:
        assert_exact(check(cluster, generation, marker, watcher), watcher)
    live = sum(not watcher.came_after_end for _, _, watcher in started)
    assert live >= count // 2, f"only {live} of {count} watchers came before their end"
