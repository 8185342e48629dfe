"""The registry of running tasks: tracked while they run, a heartbeat other workers can see,
stops from this worker or any other, and every task ended when the worker shuts down."""

import asyncio
import contextlib
import inspect
import time

import pytest
from django.core.cache import cache

from studio.streams import registry
from studio.streams.registry import Registry
from tests.streams import test_relay

redis_relay = test_relay.redis_relay


async def forever() -> None:
    await asyncio.Event().wait()


async def test_a_task_is_tracked_while_it_runs_and_forgotten_when_it_ends():
    runs = Registry("test-run")
    gate = asyncio.Event()
    task = runs.track(7, asyncio.create_task(gate.wait()))

    assert runs.is_live(7) and runs.task_for(7) is task and not runs.is_live(8)
    gate.set()
    await task
    await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
    assert not runs.is_live(7) and runs.task_for(7) is None


async def test_a_task_that_has_just_ended_is_not_live_before_its_callback_runs():
    # Awaiting a finished task does not yield to the loop: whoever asks right after it ended
    # (the CI flake in tests/assistant/test_runner.py) must not be told it still runs.
    runs = Registry("test-ended")
    task = runs.track(9, asyncio.create_task(asyncio.sleep(0)))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert task.done() and 9 in runs.tasks  # the done callback has not run yet
    assert not runs.is_live(9) and not runs.is_alive(9)


async def test_the_heartbeat_says_alive_while_the_block_runs_and_is_gone_after():
    # Whole seconds: Redis (the cache with REDIS_URL) keeps a key for whole seconds only.
    runs = Registry("test-beat", heartbeat_ttl=1.5)
    assert runs.alive_key(5) == "studio:test-beat-alive:5"
    assert not await runs.ais_alive(5)

    async with runs.heartbeat(5):
        for _ in range(5):  # outlives its TTL: renewed every third of it
            await asyncio.sleep(0.5)
            assert await cache.aget(runs.alive_key(5)) == 1

    assert await cache.aget(runs.alive_key(5)) is None
    assert not await runs.ais_alive(5)


class CountingCache:
    """The shared cache, with every call that writes a heartbeat recorded (name, keys)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, frozenset[str]]] = []

    def __getattr__(self, name):
        real = getattr(cache, name)
        if name in ("set", "aset", "set_many", "aset_many"):
            if inspect.iscoroutinefunction(real):

                async def acall(data, *args, **kwargs):
                    self._record(name, data)
                    return await real(data, *args, **kwargs)

                return acall

            def call(data, *args, **kwargs):
                self._record(name, data)
                return real(data, *args, **kwargs)

            return call
        return real

    def _record(self, name: str, data) -> None:
        self.writes.append((name, frozenset(data if isinstance(data, dict) else [data])))


@pytest.fixture
def counting_cache(monkeypatch):
    counting = CountingCache()
    monkeypatch.setattr(registry, "cache", counting)
    return counting


async def test_a_worker_beats_all_its_heartbeats_in_one_call_per_period(counting_cache):
    runs = Registry("test-beats", heartbeat_ttl=1.5)  # a beat every 0.5 s
    keys = {runs.alive_key(n) for n in range(1, 6)}

    async with contextlib.AsyncExitStack() as stack:
        for n in range(1, 6):  # five runs start at once
            await stack.enter_async_context(runs.heartbeat(n))
        for _ in range(5):  # outlives the TTL: every key renewed, together
            await asyncio.sleep(0.5)
            assert await cache.aget_many(keys) == dict.fromkeys(keys, 1)
        # While all five run (a period's beat may fall between their ends, with fewer keys).
        writes = list(counting_cache.writes)

    assert writes  # one call per period (5 or so), each with every key
    assert {name for name, _ in writes} == {"set_many"}
    assert all(written == keys for _, written in writes)
    assert len(writes) <= 7
    assert await cache.aget_many(keys) == {}  # all gone with their runs


async def test_a_run_that_ends_takes_its_heartbeat_with_it_and_the_others_beat_on(counting_cache):
    runs = Registry("test-beats-end", heartbeat_ttl=1.5)
    first, second = runs.alive_key(1), runs.alive_key(2)
    runs.mark_alive(2)  # as launch() does: the key is set before its run starts

    async with runs.heartbeat(1):
        async with runs.heartbeat(2, marked=True):
            await asyncio.sleep(0.1)
            assert await cache.aget(first) == 1 and await cache.aget(second) == 1
        assert await cache.aget(second) is None  # gone as soon as its run ended
        assert not await runs.ais_alive(2)
        for _ in range(4):  # the other still beats, alone now
            await asyncio.sleep(0.5)
            assert await cache.aget(first) == 1
        assert counting_cache.writes[-1] == ("set_many", frozenset({first}))

    beating = registry.heartbeats(1.5)
    assert beating.task is not None
    await asyncio.wait_for(beating.task, timeout=5)  # no run left: no task beats
    assert await cache.aget(first) is None


async def test_a_marked_run_waits_for_the_next_beat_an_unmarked_one_is_set_at_once(
    counting_cache,
):
    runs = Registry("test-beats-marked", heartbeat_ttl=3)  # a beat every second

    async def beats(count: int) -> list[frozenset[str]]:
        """The beats so far, once there are ``count`` (a loaded machine's thread trips)."""
        async with asyncio.timeout(5):
            while True:
                done = [written for name, written in counting_cache.writes if name == "set_many"]
                if len(done) >= count:
                    return done
                await asyncio.sleep(0.01)

    async with runs.heartbeat(1):
        await beats(1)
        runs.mark_alive(2)
        async with runs.heartbeat(2, marked=True), runs.heartbeat(3):
            # The first run's beat, then the third's at once; the second's key is its mark.
            assert await beats(2) == [{runs.alive_key(1)}, {runs.alive_key(3)}]
            assert await runs.ais_alive(2) and await runs.ais_alive(3)


async def test_a_stop_cancels_the_task_and_says_it_was_a_stop():
    runs = Registry("test-stop")
    task = runs.track(3, asyncio.create_task(forever()))

    assert await runs.request_stop(3)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs.was_stopped(3)
    runs.forget_stop(3)
    assert not runs.was_stopped(3)
    assert not await runs.request_stop(3)  # runs nowhere (and no Redis to ask)


async def test_a_stop_asked_in_another_worker_reaches_the_task(redis_relay):
    here, elsewhere = Registry("test-relayed"), Registry("test-relayed")  # two workers
    task = here.track(11, asyncio.create_task(forever()))
    here.listen_for_stops()

    async with asyncio.timeout(5):
        while not await elsewhere.request_stop(11):  # until the listener has subscribed
            await asyncio.sleep(0.01)
        with pytest.raises(asyncio.CancelledError):
            await task
    assert here.was_stopped(11) and not elsewhere.was_stopped(11)
    here._listener[1].cancel()


async def test_a_stop_only_the_asking_worker_heard_is_not_taken_for_heard(redis_relay):
    """After a Redis outage the asking worker's own listener may be the only one subscribed
    again: Redis counts it, but it does not run the task, so nobody stopped it."""
    asking, running = Registry("test-unheard"), Registry("test-unheard")  # two workers
    task = running.track(12, asyncio.create_task(forever()))  # its listener is not back yet
    asking.listen_for_stops()
    async with asyncio.timeout(5):
        while asking._subscribed == 0:
            await asyncio.sleep(0.01)

    assert not await asking.request_stop(12)
    assert not task.done()

    running.listen_for_stops()  # back: now the Stop is heard, and stops it
    async with asyncio.timeout(5):
        while not await asking.request_stop(12):
            await asyncio.sleep(0.01)
        with pytest.raises(asyncio.CancelledError):
            await task
    for worker in (asking, running):
        worker._listener[1].cancel()


async def test_the_mirror_goes_at_the_pace_of_watchers_in_other_workers(redis_relay, settings):
    """A worker that hears watchers announce themselves mirrors an unwatched log once per
    GENERATION_MIRROR_INTERVAL (60 s here), and every batch once one announces itself; one
    that cannot hear them (its listener not subscribed yet) mirrors every batch."""
    settings.GENERATION_MIRROR_INTERVAL = 60
    running = Registry("test-watched")

    async def entries(key: int) -> int:
        return await redis_relay().xlen(running.stream_key(key))

    async def batches(log, key: int, pieces: list[str]) -> None:
        for piece in pieces:
            before = await entries(key)
            log.add(test_relay.Delta(piece))
            while await entries(key) == before:  # its own entry, not the interval's
                await asyncio.sleep(0.005)

    unheard = running.open_log(21)
    mirror = running.mirror(unheard)
    async with asyncio.timeout(5):
        await batches(unheard, 21, ["one ", "two"])

    running.listen_for_stops()
    async with asyncio.timeout(5):
        while running._subscribed == 0:
            await asyncio.sleep(0.01)
    log = running.open_log(22)
    mirrored = running.mirror(log)
    async with asyncio.timeout(5):
        await batches(log, 22, ["first "])
    for piece in ["waits ", "together "]:
        log.add(test_relay.Delta(piece))
        await asyncio.sleep(0.005)  # watched, each would be an entry of its own

    async with asyncio.timeout(5):  # a watcher in another worker says so: the rest at once
        while not log.watched_elsewhere:
            await redis_relay().publish(running.watch_channel, "22")
            await asyncio.sleep(0.01)
        while await entries(22) == 1:
            await asyncio.sleep(0.005)
        await batches(log, 22, ["and ", "on"])
    second = (await redis_relay().xrange(running.stream_key(22)))[1][1]
    waited = [["content", "waits "], ["content", "together "]]
    assert test_relay.json.loads(second[b"items"]) == waited
    for each, task in ((unheard, mirror), (log, mirrored)):
        each.finish(test_relay.Done("done"))
        await task
    running._listener[1].cancel()


async def test_a_relayed_mirror_sends_its_first_entry_at_once_then_one_per_batch(
    redis_relay, settings
):
    """Each entry costs an XADD here and an XREAD in the watcher's worker (ten times a local
    frame): however quiet the worker (the SSE rate would let every token go alone), the
    first entry goes at once (the first token is not delayed) and what comes within the
    next GENERATION_SSE_BATCH seconds (1 s here) goes in one entry."""
    settings.GENERATION_SSE_BATCH, settings.GENERATION_SSE_RATE = 1.0, 10000
    running = Registry("test-relayed")  # no listener: every log is mirrored batch by batch
    log = running.open_log(23)
    mirror = running.mirror(log)
    log.add(test_relay.Delta("First "))
    async with asyncio.timeout(5):
        while not await redis_relay().exists(running.stream_key(23)):
            await asyncio.sleep(0.005)
        for piece in ["a ", "b ", "c"]:
            log.add(test_relay.Delta(piece))
            await asyncio.sleep(0.01)  # time enough for an entry each, were it not paced
        log.finish(test_relay.Done("done"))
        await mirror

    entries = await redis_relay().xrange(running.stream_key(23))
    assert [test_relay.json.loads(f[b"items"]) for _, f in entries[:-1]] == [
        [["content", "First "]],
        [["content", "a "], ["content", "b "], ["content", "c"]],
    ]
    assert b"done" in entries[-1][1]


async def test_shutdown_cancels_every_running_task_of_every_kind():
    first, second = Registry("test-down-a"), Registry("test-down-b")
    ended: list[str] = []

    async def run(name: str) -> None:
        try:
            await forever()
        finally:
            ended.append(name)  # a runner saves what it has here

    first.track(1, asyncio.create_task(run("a")))
    second.track(1, asyncio.create_task(run("b")))
    await asyncio.sleep(0)

    await registry.shutdown(timeout=5)

    assert sorted(ended) == ["a", "b"]
    assert not first.was_stopped(1)  # a shutdown, not a stop: the runner says "interrupted"


async def test_a_finished_log_stays_a_while_for_late_reconnects():
    runs = Registry("test-logs")
    log = runs.open_log(4)
    assert runs.get_log(4) is log and log.key == 4

    runs.discard_later(4, delay=0.01)
    assert runs.get_log(4) is log
    await asyncio.sleep(0.05)
    assert runs.get_log(4) is None


async def test_the_first_run_of_a_worker_marked_alive_is_not_beaten_again_at_once(
    counting_cache,
):
    """The run that starts the beating task (at N=1, every run): its key was just set by
    ``mark_alive``, so the task's first beat is the next period's, not a second write."""
    runs = Registry("test-beats-first-marked", heartbeat_ttl=3)  # a beat every second
    beating = registry.heartbeats(3)
    assert beating.task is None or beating.task.done()
    runs.mark_alive(1)

    async with runs.heartbeat(1, marked=True):
        started = time.monotonic()
        async with asyncio.timeout(5):
            while not [name for name, _ in counting_cache.writes if name == "set_many"]:
                await asyncio.sleep(0.01)
        waited = time.monotonic() - started
        assert waited >= 1  # a period on, as every other beat: not at once
        assert counting_cache.writes == [
            ("set", frozenset({runs.alive_key(1)})),  # mark_alive
            ("set_many", frozenset({runs.alive_key(1)})),
        ]
        assert await runs.ais_alive(1)
