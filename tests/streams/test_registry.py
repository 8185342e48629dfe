"""The registry of running tasks: tracked while they run, a heartbeat other workers can see,
stops from this worker or any other, and every task ended when the worker shuts down."""

import asyncio

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
