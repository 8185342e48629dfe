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
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from drafts.models import Generation
from tests.infra_faults.conftest import (
    HEARTBEAT_TTL,
    QUEUED,
    SETTLE,
    STATS,
    Checked,
    Client,
    Cluster,
    Watcher,
    assert_exact,
    check,
    on_postgresql_only,
    settle,
    start,
    wait_for,
    watch,
)

on_postgresql_only(
    "the infrastructure fault suite runs the studio's workers on PostgreSQL (it terminates "
    "their connections with pg_terminate_backend)"
)

pytestmark = pytest.mark.django_db(transaction=True)

DRAIN_BOUND = 30  # a worker told to stop (SIGTERM) has exited within this many seconds


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
    stall = 60
    generation, marker = start(session, cluster.a.url, ready, 400, f"[[sim:stall_after={stall}]]")
    watcher = watch(session, generation, cluster.b.url, timeout=SETTLE + 10)

    def saved_all() -> bool:
        # All of it: the upstream has sent its last token (after the role chunk's empty
        # content), not a pause mid-answer that a save happened to catch up with.
        sent = cluster.upstream.sent_pieces(marker)
        return len(sent) > stall and Generation.objects.get(pk=generation).text == "".join(sent)

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
