"""Cross-worker streaming through Redis: a watcher in another worker sees exactly the text,
then the end (status and ids), and a stop reaches the worker that runs it.

Runs against the real Redis when REDIS_URL is set (CI), else against fakeredis.
"""

import asyncio
import json
import os

import fakeredis
import pytest
import redis
import redis.asyncio as aioredis

from studio.streams import relay
from studio.streams.events import Block, Delta, Done, EventLog, follow


@pytest.fixture
def redis_relay(settings, monkeypatch):
    """Relay on; each test gets a fresh Redis client on its own event loop (and a blocking
    one for sync code), all on one Redis."""
    url = os.environ.get("REDIS_URL")
    settings.REDIS_URL = url or "redis://fake"
    server = fakeredis.FakeServer()
    clients = {}

    def get_redis():
        loop = asyncio.get_running_loop()
        if loop not in clients:
            fake = fakeredis.FakeAsyncRedis(server=server)
            clients[loop] = aioredis.Redis.from_url(url) if url else fake
        return clients[loop]

    sync = redis.Redis.from_url(url) if url else fakeredis.FakeRedis(server=server)
    monkeypatch.setattr(relay, "get_redis", get_redis)
    monkeypatch.setattr(relay, "get_sync_redis", lambda: sync, raising=False)
    return get_redis


def frames_text(frames: list[bytes]) -> str:
    """The text a browser would append from delta frames."""
    out = []
    for frame in frames:
        if not isinstance(frame, bytes):
            continue
        lines = frame.decode().split("\n")
        if "event: delta" in lines:
            out.append("\n".join(line[6:] for line in lines if line.startswith("data: ")))
    return "".join(out)


async def test_a_watcher_follows_the_mirror_from_any_position(redis_relay):
    log = EventLog(987654)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    for piece in ["One ", "two ", "three ", "four"]:
        log.add(Delta(piece))
        await asyncio.sleep(0.005)  # let the publisher cut several batches
    log.finish(Done("done", {"generation": 987654, "draft": 12}))
    await publisher

    async def never_idle():
        return None

    everything = [f async for f in relay.follow(987654, after=0, heartbeat=1, when_idle=never_idle)]
    from_two = [f async for f in relay.follow(987654, after=2, heartbeat=1, when_idle=never_idle)]

    assert frames_text(everything) == "One two three four"
    assert frames_text(from_two) == "three four"
    # The end, as ids and a status (no HTML): each watcher's view renders it for its viewer.
    assert everything[-1] == from_two[-1] == Done("done", {"generation": 987654, "draft": 12}, 4)
    assert all(isinstance(frame, bytes) for frame in everything[:-1])


async def test_blocks_cross_workers_as_they_are_once_and_where_they_were(redis_relay):
    log = EventLog(987655)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    for item in [
        Delta("# 标题\n\nSo"),
        Block("<h1>标题</h1>\n", 6),
        Delta("me"),
        Block("<p>Some</p>\n", 4),
    ]:
        log.add(item)
        await asyncio.sleep(0.005)
    log.finish(Done("done"))
    await publisher

    async def never_idle():
        return None

    def events(frames):  # batches may be cut differently: the frames without their ids
        text = "".join(f.decode() for f in frames if isinstance(f, bytes))
        return [line for line in text.split("\n") if not line.startswith("id: ")]

    local = [f async for f in follow(log, after=2, batch=0, rate=0, heartbeat=1)]
    mirrored = [f async for f in relay.follow(987655, after=2, heartbeat=1, when_idle=never_idle)]

    assert events(mirrored) == events(local)
    assert (
        "".join(events(local)) == "event: deltadata: meevent: blockdata: 4data: <p>Some</p>data: "
    )
    assert mirrored[-1] == local[-1] == Done("done", seq=4)


async def test_a_watcher_of_a_lost_generation_gets_its_settled_end(redis_relay):
    async def settled():
        return Done("interrupted", {"generation": 123456789})

    frames = [f async for f in relay.follow(123456789, after=0, heartbeat=0.01, when_idle=settled)]

    assert frames == [Done("interrupted", {"generation": 123456789}, seq=0)]


async def test_a_late_watcher_replays_a_finished_mirror_then_its_end(redis_relay):
    """A watcher in a worker that never held the log, arriving after the end (an SSE GET
    slower than the whole generation, under load), gets the text, not only the end."""
    log = EventLog(987656)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    for piece in ["Late ", "but ", "whole"]:
        log.add(Delta(piece))
        await asyncio.sleep(0.005)
    log.finish(Done("done", {"generation": 987656, "draft": 7}))
    await publisher
    end = Done("done", {"generation": 987656, "draft": 7})

    everything = [f async for f in relay.replay(987656, after=0, heartbeat=60, end=end)]
    resumed = [f async for f in relay.replay(987656, after=1, heartbeat=60, end=end)]

    assert frames_text(everything) == "Late but whole"
    assert frames_text(resumed) == "but whole"
    assert everything[-1] == resumed[-1] == Done("done", {"generation": 987656, "draft": 7}, 3)


async def test_a_late_watcher_with_no_mirror_gets_only_the_end_at_once(redis_relay):
    end = Done("done", {"generation": 987657})  # expired, or never mirrored (a cached answer)

    async with asyncio.timeout(5):  # not after a 60 s heartbeat
        frames = [f async for f in relay.replay(987657, after=4, heartbeat=60, end=end)]

    assert frames == [end]  # sent as it is, like an end that was never followed


async def test_a_late_watcher_follows_a_mirror_still_being_written(redis_relay):
    """The row says done while the runner still writes its last batches: followed live."""
    log = EventLog(987658)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    log.add(Delta("First "))
    while not await redis_relay().exists(relay.stream_key(987658)):
        await asyncio.sleep(0.005)
    end = Done("done", {"generation": 987658})
    frames, first = [], asyncio.Event()

    async def watch():
        async for frame in relay.replay(987658, after=0, heartbeat=60, end=end):
            frames.append(frame)
            first.set()

    watcher = asyncio.create_task(watch())
    async with asyncio.timeout(5):
        await first.wait()
    assert frames_text(frames) == "First " and not isinstance(frames[-1], Done)
    log.add(Delta("last"))
    log.finish(Done("done", {"generation": 987658}))
    await publisher

    async with asyncio.timeout(5):
        await watcher

    assert frames_text(frames) == "First last"
    assert frames[-1] == Done("done", {"generation": 987658}, 2)


async def test_stop_reaches_the_worker_that_runs_the_generation(redis_relay):
    stopped = asyncio.Event()
    seen = []

    def cancel(generation_id: int) -> bool:
        seen.append(generation_id)
        stopped.set()
        return True

    listener = asyncio.create_task(relay.listen({relay.CANCEL_CHANNEL: cancel}))
    async with asyncio.timeout(5):
        while not stopped.is_set():  # until the listener has subscribed (and heard it)
            await relay.request_cancel(42)
            await asyncio.sleep(0.01)
    listener.cancel()

    assert seen[0] == 42


async def _entries(redis_relay, log_key: int) -> list[list[list[str]] | str]:
    """The mirror's entries: each batch's items, and "done" for the final one."""
    entries = await redis_relay().xrange(relay.stream_key(log_key))
    return ["done" if b"done" in f else json.loads(f[b"items"]) for _, f in entries]


async def test_a_mirror_nobody_follows_elsewhere_is_a_copy_written_at_intervals(redis_relay):
    """Unwatched, the mirror is what a crash or a late watcher needs: its first entry at
    once, then one per interval (60 s here), and the rest at once when the stream ends."""
    log = EventLog(987670)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001, unwatched=60))
    log.add(Delta("First "))
    async with asyncio.timeout(5):
        while not await redis_relay().exists(relay.stream_key(987670)):
            await asyncio.sleep(0.005)
        for piece in ["a ", "b ", "c"]:
            log.add(Delta(piece))
            await asyncio.sleep(0.005)  # watched, each would be a batch of its own
        log.finish(Done("done"))
        await publisher

    assert await _entries(redis_relay, 987670) == [
        [["content", "First "]],
        [["content", "a "], ["content", "b "], ["content", "c"]],
        "done",
    ]


async def test_a_watcher_in_another_worker_announces_itself_and_gets_every_batch(redis_relay):
    channel = f"test:watch:{os.getpid()}"
    log = EventLog(987671)
    listening = asyncio.Event()

    def watched(key: int) -> None:
        if key == log.key:
            log.watch_elsewhere()

    listener = asyncio.create_task(
        relay.listen({channel: watched}, lambda on: on and listening.set())
    )
    publisher = asyncio.create_task(relay.publish(log, batch=0.001, unwatched=60))
    log.add(Delta("One "))
    frames: list[bytes | Done] = []

    async def never_idle():
        return None

    async def watch():
        source = relay.follow(
            log.key, after=0, heartbeat=60, when_idle=never_idle, announce=channel
        )
        async for frame in source:
            frames.append(frame)

    async with asyncio.timeout(5):  # not the mirror's 60 s interval
        await listening.wait()
        watcher = asyncio.create_task(watch())
        while not log.watched_elsewhere:
            await asyncio.sleep(0.005)
        for piece in ["two ", "three"]:
            log.add(Delta(piece))
            while frames_text(frames) != "One " + ("two " if piece == "two " else "two three"):
                await asyncio.sleep(0.005)
        log.finish(Done("done"))
        await watcher
        await publisher
    listener.cancel()

    assert frames_text(frames) == "One two three" and frames[-1] == Done("done", seq=3)
    assert len(await _entries(redis_relay, 987671)) == 4  # three batches, then the end


async def test_watchers_in_one_worker_share_one_read_and_a_newcomer_is_read_at_once(
    redis_relay, settings
):
    """One XREAD reads every relayed watcher's stream (decision 57). A watcher who comes
    while it blocks (a heartbeat, 15 s) wakes it: its stream is read at once, not after."""
    settings.GENERATION_SSE_HEARTBEAT = 15.0

    async def never_idle():
        return None

    async def watch(key: int, after: int = 0) -> list[bytes | Done]:
        source = relay.follow(key, after=after, heartbeat=15.0, when_idle=never_idle)
        return [frame async for frame in source]

    quiet = EventLog(987680)
    quiet_mirror = asyncio.create_task(relay.publish(quiet, batch=0.001))
    first = asyncio.create_task(watch(quiet.key))
    reader = relay.get_reader()
    async with asyncio.timeout(5):
        while not (reader.blocked and reader.followers):
            await asyncio.sleep(0.005)
        log = EventLog(987681)
        mirror = asyncio.create_task(relay.publish(log, batch=0.001))
        log.add(Delta("Read "))
        everything, from_one = (
            asyncio.create_task(watch(log.key)),
            asyncio.create_task(watch(log.key, after=1)),
        )
        while len(reader.followers) < 2:
            await asyncio.sleep(0.005)
        log.add(Delta("at once."))
        log.finish(Done("done", {"generation": log.key}))
        await mirror
        assert frames_text(await everything) == "Read at once."
        assert frames_text(await from_one) == "at once."  # each from where it was, once
        assert reader.task is not None  # the quiet watcher is still read
        quiet.finish(Done("done"))
        await quiet_mirror
        assert (await first)[-1] == Done("done", seq=0)
    assert reader.followers == {}  # its XREAD, once it returns, is its last


async def test_the_mirrors_of_a_worker_write_together(redis_relay, monkeypatch):
    """Twenty mirrors, each a first entry and an end: two round trips, not forty."""
    client = relay.get_redis()
    rounds, pipeline = [], client.pipeline

    def counted(*args, **kwargs):
        rounds.append(kwargs)
        return pipeline(*args, **kwargs)

    monkeypatch.setattr(client, "pipeline", counted)
    logs = [EventLog(987700 + n) for n in range(20)]
    await client.xadd(relay.stream_key(987700), {"left": "by an earlier run"}, id="0-5")
    mirrors = [asyncio.create_task(relay.publish(log, batch=0.001)) for log in logs]
    for log in logs:
        log.add(Delta(f"Answer {log.key}."))
        log.finish(Done("done", {"generation": log.key}))
    await asyncio.wait_for(asyncio.gather(*mirrors), 5)

    assert rounds == [{"transaction": False}] * 2
    for log in logs:  # each stream anew (the earlier run's entry gone), with its time to live
        assert await _entries(redis_relay, log.key) == [[["content", f"Answer {log.key}."]], "done"]
        assert 0 < await client.ttl(relay.stream_key(log.key)) <= relay.FINISHED_TTL
    await client.delete(*(relay.stream_key(log.key) for log in logs))


async def test_a_write_that_fails_fails_its_own_mirror_only(redis_relay):
    """In one round: an entry there already (a retried write whose first try landed) is
    fine; a refused write raises in its own mirror, and the others land."""
    client, writer = relay.get_redis(), relay.get_writer()
    there, fresh, wrong = (relay.stream_key(k) for k in (987730, 987731, 987732))
    await client.xadd(there, {"start": 1, "items": "[]"}, id="0-1")
    await client.set(wrong, "not a stream")
    results = await asyncio.gather(
        writer.add(there, {"start": 1, "items": "[]"}, 1),
        writer.add(wrong, {"start": 1, "items": "[]"}, 1),
        writer.add(fresh, {"start": 1, "items": "[]"}, 1, expire=60, clear=True),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], redis.ResponseError) and "WRONGTYPE" in str(results[1])
    assert await client.xlen(there) == 1 and 0 < await client.ttl(fresh) <= 60
    await client.delete(there, fresh, wrong)


async def test_a_watcher_who_joins_a_stream_read_from_further_on_misses_nothing(redis_relay):
    """The reader asks each stream from where its furthest-behind watcher is. One who joins
    while that read waits, from further back (a reconnect from the start), and whose wake the
    read's answer overtakes (new entries came first), gets the whole text, not a gap."""

    async def never_idle():
        return None

    async def watch(after: int) -> list[bytes | Done]:
        source = relay.follow(log.key, after=after, heartbeat=15.0, when_idle=never_idle)
        return [frame async for frame in source]

    log = EventLog(987740)
    mirror = asyncio.create_task(relay.publish(log, batch=0.001))
    for piece in ["One ", "two ", "three "]:
        log.add(Delta(piece))
    ahead = asyncio.create_task(watch(after=2))
    reader, key = relay.get_reader(), relay.stream_key(log.key)
    async with asyncio.timeout(5):
        while not (reader.blocked and [f.read for f in reader.followers.get(key, ())] == [3]):
            await asyncio.sleep(0.005)
        reader.blocked = False  # as if it joined just before the read: no wake
        behind = asyncio.create_task(watch(after=0))
        while len(reader.followers[key]) < 2:
            await asyncio.sleep(0.005)
        log.add(Delta("four"))  # the read's answer: this entry, not a wake
        log.finish(Done("done"))
        await mirror
        assert frames_text(await ahead) == "three four"
        assert frames_text(await behind) == "One two three four"


async def test_a_watcher_that_goes_while_it_joins_leaves_the_reader(redis_relay, settings):
    """A browser gone while its watcher wakes the reader: no stream read for nobody."""
    settings.GENERATION_SSE_HEARTBEAT = 15.0

    async def never_idle():
        return None

    async def watch(key: int) -> None:
        async for _frame in relay.follow(key, after=0, heartbeat=15.0, when_idle=never_idle):
            pass

    first = asyncio.create_task(watch(987750))
    reader, gone = relay.get_reader(), relay.stream_key(987751)
    async with asyncio.timeout(5):
        while not reader.blocked:
            await asyncio.sleep(0.005)
        second = asyncio.create_task(watch(987751))
        while gone not in reader.followers:
            await asyncio.sleep(0)
        second.cancel()  # its wake in flight
        await asyncio.gather(second, return_exceptions=True)
    assert gone not in reader.followers and relay.stream_key(987750) in reader.followers
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
