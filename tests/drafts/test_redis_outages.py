"""Generations and Redis outages: a heartbeat gap is not a crash. A heartbeat that cannot be
read settles nothing, the periodic sweeper settles only a generation orphaned for a
heartbeat's life, a generation that is settled keeps the text its Redis mirror holds, and a
Stop that cannot reach the runner's worker says so."""

import asyncio
import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from drafts import generation as runner
from drafts import sweeper
from drafts.models import Generation
from studio.streams import relay
from tests.drafts.test_sweeper import start
from tests.streams import test_outages, test_relay

pytestmark = pytest.mark.django_db
flaky_cache = test_outages.flaky_cache
flaky_redis = test_outages.flaky_redis
redis_relay = test_relay.redis_relay
__all__ = ["start"]  # a fixture


def test_a_heartbeat_that_cannot_be_read_settles_nothing(start, flaky_cache):
    lost = start()
    flaky_cache.down = True  # Redis is away: no worker can tell whether it runs

    assert sweeper.sweep() == []
    assert runner.settle_orphan(lost).status == "running"  # nor does a Stop

    flaky_cache.down = False  # back, and still no heartbeat: lost indeed
    assert sweeper.sweep() == [lost.pk]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_the_periodic_sweep_settles_only_a_generation_orphaned_for_a_heartbeat_s_life(
    start, monkeypatch
):
    clock = Clock()
    monkeypatch.setattr(sweeper, "time", clock)
    monkeypatch.setattr(sweeper, "_suspects", {})
    lost = start()
    confirm = runner.HEARTBEAT_TTL

    assert sweeper.sweep(confirm=confirm) == []  # first seen without a heartbeat
    clock.now += confirm - 1
    assert sweeper.sweep(confirm=confirm) == []  # not for long enough yet
    # Its runner beats again (the heartbeat was missing only during an outage): not lost.
    runner.GENERATIONS.mark_alive(lost.pk)
    clock.now += 2
    assert sweeper.sweep(confirm=confirm) == []
    cache.delete(runner.alive_key(lost.pk))  # now its runner is gone: a fresh first sighting
    clock.now += 1
    assert sweeper.sweep(confirm=confirm) == []
    clock.now += confirm
    assert sweeper.sweep(confirm=confirm) == [lost.pk]
    assert Generation.objects.get(pk=lost.pk).status == "interrupted"


@pytest.mark.django_db(transaction=True)
async def test_the_serving_process_sweeps_with_that_confirmation(monkeypatch, settings):
    settings.GENERATION_SWEEP_INTERVAL = 0.01
    calls = []
    monkeypatch.setattr(sweeper, "sweep", lambda **options: calls.append(options))

    task = sweeper.start()
    try:
        async with asyncio.timeout(5):
            while not calls:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()

    assert calls[0] == {"confirm": runner.HEARTBEAT_TTL}


def entry(start: int, *items: tuple[str, str]) -> dict[str, object]:
    return {"start": start, "items": json.dumps(items)}


def test_a_lost_generation_keeps_the_text_its_mirror_holds(start, redis_relay):
    """It crashed half a second after its last save: what it streamed meanwhile is in its
    Redis stream, and the version kept has it."""
    lost = start(text="So far")
    key = relay.stream_key(lost.pk)
    mirror = relay.get_sync_redis()
    mirror.xadd(key, entry(1, ("reasoning", "Think. "), ("content", "So far")), id="0-2")
    mirror.xadd(key, entry(3, ("content", " and"), ("content", " the rest")), id="0-4")
    try:
        assert sweeper.sweep() == [lost.pk]
    finally:
        mirror.delete(key)

    lost = Generation.objects.select_related("version").get(pk=lost.pk)
    assert lost.status == "interrupted"
    assert lost.text == lost.version.text == "So far and the rest"
    assert lost.reasoning == "Think. "


def test_a_mirror_that_is_not_the_whole_text_is_not_used(start, redis_relay):
    lost = start(text="So far, and more")
    key = relay.stream_key(lost.pk)
    mirror = relay.get_sync_redis()
    mirror.xadd(key, entry(2, ("content", " later text")), id="0-2")  # its start expired
    try:
        assert runner.recovered_texts(lost) == ("So far, and more", "")
        mirror.delete(key)
        mirror.xadd(key, entry(1, ("content", "So far")), id="0-1")  # less than was saved
        assert runner.recovered_texts(lost) == ("So far, and more", "")
    finally:
        mirror.delete(key)


def test_a_stop_that_cannot_reach_the_runner_s_worker_says_so(start, client, user, flaky_redis):
    running = start()
    runner.GENERATIONS.mark_alive(running.pk)  # another worker runs it
    flaky_redis.connected = False  # and Redis, which would carry the Stop there, is away
    client.force_login(user)

    response = client.post(
        reverse("drafts:cancel", args=[running.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 503 and response["HX-Retarget"] == "#toasts"
    assert "Try again in a moment" in response.content.decode()
    assert Generation.objects.get(pk=running.pk).status == "running"
    cache.delete(runner.alive_key(running.pk))


@pytest.mark.django_db(transaction=True)
async def test_a_stop_no_worker_hears_is_sent_again_until_one_does(
    start, redis_relay, monkeypatch, settings
):
    """Redis is back but the runner's Stop listener is still subscribing again (the
    infrastructure fault suite's Stop right after an outage): the Stop is sent again a
    moment later instead of answered as done with the runner still writing."""
    settings.REDIS_BACKOFF_CAP = 0.5
    running = await asyncio.to_thread(start)
    await runner.GENERATIONS.amark_alive(running.pk)  # another worker runs it
    heard: list[int] = []
    listening = asyncio.Event()

    async def subscribe_late() -> None:
        await asyncio.sleep(0.5)  # reconnecting
        listener = asyncio.create_task(
            relay.listen({runner.GENERATIONS.cancel_channel: heard.append})
        )
        listening.set()
        await asyncio.sleep(3)
        listener.cancel()

    late = asyncio.create_task(subscribe_late())
    assert await runner.request_stop(running) is True
    assert listening.is_set()
    async with asyncio.timeout(5):  # the listener's turn to read it
        while not heard:
            await asyncio.sleep(0.01)
    assert heard == [running.pk]
    late.cancel()


@pytest.mark.django_db(transaction=True)
async def test_a_stop_no_worker_hears_at_all_is_not_answered_as_done(start, redis_relay, settings):
    settings.REDIS_BACKOFF_CAP = 0.1
    running = await asyncio.to_thread(start)
    await runner.GENERATIONS.amark_alive(running.pk)  # alive elsewhere, no listener anywhere

    assert await runner.request_stop(running) is False
    assert (await Generation.objects.aget(pk=running.pk)).status == "running"  # not settled
