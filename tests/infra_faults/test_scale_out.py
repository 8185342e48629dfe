"""Scale-out: any worker serves any stream, and a Stop reaches the worker that runs it.

The infrastructure suite's two studio workers (uvicorn) on PostgreSQL and Redis, driven over
real HTTP the way a load balancer without sticky sessions spreads one user's requests: a
generation runs on one worker and is stopped, and its watcher resumes, through the other.
(Started on one worker and watched through the other to the end, exactly: every fault test's
``exact_after`` and test_a_burst_of_concurrent_generations_across_both_workers.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

import pytest

from tests.faults.conftest import Frame, parse_frame
from tests.infra_faults.conftest import (
    QUEUED,
    Client,
    assert_exact,
    check,
    on_postgresql_only,
    settle,
    start,
    wait_for,
    watch,
)

on_postgresql_only(
    "the scale-out tests run two studio workers on PostgreSQL and Redis, as production "
    "does (the infrastructure suite's cluster)"
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_stop_through_the_other_worker_reaches_the_runner(cluster, session, ready):
    # Runs on A; after 60 tokens the upstream sends nothing more: it ends only by a Stop.
    generation, marker = start(session, cluster.a.url, ready, 2000, "[[sim:stall_after=60]]")
    on_a = watch(session, generation, cluster.a.url)  # the runner's own log
    on_b = watch(session, generation, cluster.b.url)  # through the Redis relay

    def all_shown() -> bool:
        sent = cluster.upstream.sent_text(marker)
        return bool(sent) and on_a.text == on_b.text == sent

    wait_for(all_shown, 10, f"both tabs to show generation {generation}'s text")
    response = session.stop(cluster.b.url, generation)
    assert response.status_code == 204, response.text[:300]

    settle(generation, timeout=10)
    checked = check(cluster, generation, marker, on_b)
    on_a.join()
    # Ended by the Stop on A (not by a sweeper, nor by the upstream): its text so far kept,
    # and both tabs were told of the end, having seen exactly that text.
    assert checked.status == "cancelled", checked.describe()
    assert checked.stored and checked.sent.startswith(checked.stored), checked.describe()
    assert checked.lost == 0, checked.describe()
    for watcher in (on_a, on_b):
        assert watcher.done and watcher.text == checked.stored, (watcher, checked.describe())


@contextmanager
def events(session: Client, base: str, generation: int, **resume: str) -> Iterator[Iterator[Frame]]:
    """One tab's SSE request to the worker at ``base`` (``headers`` and ``params`` say where it
    resumes); its frames, as they come, until the context closes the connection."""
    url = f"{base}/generations/{generation}/events/"
    with session.http.stream("GET", url, **resume) as response:
        assert response.status_code == 200, response.status_code
        yield frames(response.iter_lines())


def frames(lines: Iterator[str]) -> Iterator[Frame]:
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
        elif (frame := parse_frame(block)) is not None:
            yield frame
            block = []
        else:
            block = []


def shown(frames: list[Frame]) -> str:
    return "".join(unescape(frame.data) for frame in frames if frame.event == "delta")


# How the studio's page resumes: the browser's EventSource reconnects with Last-Event-ID; a
# stream that htmx opens afresh carries ?after= (studio.js, followCursor).
RESUME = {
    "Last-Event-ID": lambda last: {"headers": {"Last-Event-ID": str(last)}},
    "after": lambda last: {"params": {"after": str(last)}},
}


@pytest.mark.parametrize("how", RESUME)
def test_a_watcher_cut_off_on_the_runners_worker_resumes_through_the_other_exactly(
    cluster, session, ready, how
):
    generation, marker = start(session, cluster.b.url, ready, 800, QUEUED)  # runs on B
    # The upstream holds its final chunk until the tab is back (through A): the generation is
    # still running then, so A streams the rest from the Redis relay, not only the end.
    back = threading.Event()
    cluster.upstream.at_finish[marker] = lambda: back.wait(15)

    with events(session, cluster.b.url, generation) as stream:  # the tab on B…
        before = []
        for frame in stream:
            before.append(frame)
            if frame.event == "delta":
                break  # …goes away mid-stream
    last = [frame.id for frame in before if frame.id is not None][-1]

    with events(session, cluster.a.url, generation, **RESUME[how](last)) as stream:
        back.set()
        after = list(stream)  # to the end

    settle(generation, timeout=10)
    assert marker not in cluster.upstream.at_finish, "the upstream's hold did not run"
    checked = check(cluster, generation, marker, None)
    assert_exact(checked)
    assert 0 < len(shown(before)) < len(checked.sent), checked.describe()
    assert shown(before) + shown(after) == checked.sent, checked.describe()
    assert [frame.event for frame in after].count("done") == 1 and after[-1].event == "done"
