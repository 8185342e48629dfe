"""Redis outages: the heartbeat, the Stop listener, the relay mirror and a watcher following
it through Redis all outlive an outage and go on where they were; a heartbeat that cannot
be read is not a lost run. The outage is a fakeredis server that refuses connections for a
while (or a cache that raises), so these run with and without REDIS_URL;
``test_a_real_redis_restart...`` kills and restarts a private redis-server."""

import asyncio
import inspect
import shutil
import socket
import subprocess
import time

import fakeredis
import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from studio.streams import registry, relay
from studio.streams.events import Delta, Done, EventLog, Reasoning
from studio.streams.framing import HEARTBEAT
from studio.streams.registry import Registry
from tests.streams.test_relay import frames_text


async def until(condition, timeout: float = 5.0) -> None:
    """Poll ``condition`` (sync or async) until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


class FlakyCache:
    """The shared cache, or a cache whose server is away (every call raises) while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.failures = 0

    def _fail(self) -> None:
        self.failures += 1
        raise RedisConnectionError("Error 111 connecting to redis. Connection refused.")

    def __getattr__(self, name):
        real = getattr(cache, name)
        if inspect.iscoroutinefunction(real):

            async def acall(*args, **kwargs):
                if self.down:
                    self._fail()
                return await real(*args, **kwargs)

            return acall

        def call(*args, **kwargs):
            if self.down:
                self._fail()
            return real(*args, **kwargs)

        return call


@pytest.fixture
def flaky_cache(monkeypatch, settings):
    settings.REDIS_BACKOFF_CAP = 0.05
    flaky = FlakyCache()
    monkeypatch.setattr(registry, "cache", flaky)
    return flaky


@pytest.fixture
def flaky_redis(settings, monkeypatch):
    """The relay on a fakeredis server that an outage takes away: ``server.connected``."""
    settings.REDIS_URL = "redis://fake"
    settings.REDIS_BACKOFF_CAP = 0.05
    server = fakeredis.FakeServer()
    clients = {}

    def get_redis():
        loop = asyncio.get_running_loop()
        if loop not in clients:
            clients[loop] = fakeredis.FakeAsyncRedis(server=server)
        return clients[loop]

    sync = fakeredis.FakeRedis(server=server)
    monkeypatch.setattr(relay, "get_redis", get_redis)
    monkeypatch.setattr(relay, "get_sync_redis", lambda: sync, raising=False)
    return server


async def forever() -> None:
    await asyncio.Event().wait()


async def test_the_heartbeat_beats_again_after_a_cache_outage(flaky_cache):
    runs = Registry("test-outage-beat", heartbeat_ttl=1.5)
    key = runs.alive_key(5)

    async with runs.heartbeat(5):
        await until(lambda: cache.aget(key))
        flaky_cache.down = True
        await until(lambda: flaky_cache.failures >= 3)  # it keeps trying
        assert runs.is_alive(5)  # a heartbeat that cannot be read is not a lost run
        await cache.adelete(key)  # the outage outlived the key
        flaky_cache.down = False
        await until(lambda: cache.aget(key), timeout=1)  # back within the backoff

    assert await cache.aget(key) is None


async def test_a_heartbeat_that_cannot_be_read_counts_as_alive(flaky_cache):
    runs = Registry("test-outage-alive")
    assert not runs.is_alive(6) and not await runs.ais_alive(6)  # no heartbeat: lost
    flaky_cache.down = True

    assert runs.is_alive(6) and await runs.ais_alive(6)  # unknown: never lost
    runs.mark_alive(6)  # a run starting meanwhile starts: its heartbeat sets the key later
    await runs.amark_alive(6)


async def test_the_stop_listener_outlives_an_outage_and_a_later_stop_reaches_the_task(
    flaky_redis,
):
    here, elsewhere = Registry("test-outage-stop"), Registry("test-outage-stop")  # two workers
    task = here.track(11, asyncio.create_task(forever()))
    flaky_redis.connected = False
    here.listen_for_stops()
    listener = here._listener[1]
    await asyncio.sleep(0.3)  # the outage lasts a while: it fails to subscribe, and again
    assert not listener.done()

    flaky_redis.connected = True
    async with asyncio.timeout(5):
        while not await elsewhere.request_stop(11):  # until the listener has subscribed again
            await asyncio.sleep(0.01)
        with pytest.raises(asyncio.CancelledError):
            await task
    assert here.was_stopped(11) and relay.LISTENERS.since is None
    assert here._listener[1] is listener  # the same listener, never restarted
    listener.cancel()


async def test_the_mirror_and_its_watcher_outlive_an_outage_every_character_once_in_order(
    flaky_redis,
):
    log = EventLog(4242)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    frames: list[bytes | Done] = []

    async def never_idle():
        return None

    async def watch():
        async for frame in relay.follow(4242, after=0, heartbeat=0.1, when_idle=never_idle):
            frames.append(frame)

    watcher = asyncio.create_task(watch())
    pieces = [f"piece {n}, " for n in range(30)]
    for n, piece in enumerate(pieces):
        if n == 10:
            await until(lambda: frames_text(frames) == "".join(pieces[:10]))
            flaky_redis.connected = False  # Redis goes away for half a second
            before_outage = len(frames)
        if n == 20:
            await asyncio.sleep(0.5)
            during_outage = frames[before_outage:]
            flaky_redis.connected = True
        log.add(Reasoning("hm. ") if n == 15 else Delta(piece))
        await asyncio.sleep(0.005)
    log.finish(Done("done", {"generation": 4242}))
    await asyncio.wait_for(publisher, 5)
    await asyncio.wait_for(watcher, 5)

    expected = "".join(piece for n, piece in enumerate(pieces) if n != 15)
    assert frames_text(frames) == expected  # every character once, in order
    assert HEARTBEAT in during_outage  # the browser heard from it meanwhile
    assert frames[-1] == Done("done", {"generation": 4242}, 30)
    assert relay.read_texts(relay.stream_key(4242)) == (expected, "hm. ")


async def test_a_relayed_watcher_announces_itself_again_after_an_outage(
    flaky_redis, settings, monkeypatch
):
    """The runner's listener may have missed the announcement while Redis was away: the
    worker's reader says it once more for each of its watchers once Redis is back."""
    settings.GENERATION_SSE_HEARTBEAT = 0.2  # the reader's read blocks this long at most
    client, announced = relay.get_redis(), []
    publish = client.publish

    async def recorded(channel, message):
        answer = await publish(channel, message)  # raises while Redis is away
        announced.append((channel, message))
        return answer

    monkeypatch.setattr(client, "publish", recorded)

    async def never_idle():
        return None

    async def watch():
        source = relay.follow(4343, after=0, heartbeat=0.1, when_idle=never_idle, announce="w")
        async for _frame in source:
            pass

    watcher = asyncio.create_task(watch())
    await until(lambda: announced == [("w", "4343")])
    flaky_redis.connected = False
    await until(lambda: relay.WATCHERS.since is not None)
    flaky_redis.connected = True
    await until(lambda: len(announced) == 2 and relay.WATCHERS.since is None)
    watcher.cancel()
    assert announced == [("w", "4343")] * 2


async def test_a_watcher_of_a_mirror_that_wrote_twice_skips_what_it_had(flaky_redis):
    """A write whose answer was lost may have landed: the mirror writes on from what the
    stream holds, and an entry that overlaps the last is read from where the watcher was."""
    client = relay.get_redis()
    key = relay.stream_key(77)
    await client.xadd(key, {"start": 1, "items": '[["content", "One "]]'}, id="0-1")
    await client.xadd(
        key, {"start": 1, "items": '[["content", "One "], ["content", "two"]]'}, id="0-2"
    )
    await client.xadd(key, {"done": '{"status": "done"}', "seq": 2}, id="0-3")

    async def never_idle():
        return None

    frames = [f async for f in relay.follow(77, after=0, heartbeat=1, when_idle=never_idle)]

    assert frames_text(frames) == "One two"
    assert relay.read_texts(key) == ("One two", "")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A private redis-server (no persistence) that a test may kill and start again."""

    def __init__(self, binary: str) -> None:
        self.binary, self.port = binary, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()  # ours, by its id
            self.process.wait()
            self.process = None


@pytest.fixture
def real_relay(settings, monkeypatch):
    """The relay's own clients (``relay.get_redis``, no stand-in) on a private redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs the redis-server binary: a real socket to time out, a Redis to kill")
    server = RedisServer(binary)
    server.start()
    settings.REDIS_URL = server.url
    settings.REDIS_BACKOFF_CAP = 0.05
    monkeypatch.setattr(relay, "get_redis", relay._one_per_loop(relay._redis))  # none made yet
    monkeypatch.setattr(relay, "_sync", None, raising=False)
    yield server
    server.kill()


async def test_a_quiet_watcher_outlives_the_default_socket_timeout(real_relay, settings):
    """redis-py's default socket timeout is 5 s: a watcher's XREAD blocks a heartbeat (here
    6 s) and must get that heartbeat, not a TimeoutError. The client's read timeout is the
    block plus REDIS_SOCKET_TIMEOUT."""
    settings.GENERATION_SSE_HEARTBEAT = 6.0
    settings.REDIS_SOCKET_TIMEOUT = 0.5
    idle_checks = []

    async def still_running():
        idle_checks.append(time.monotonic())
        return None

    follow = relay.follow(31337, after=0, heartbeat=6.0, when_idle=still_running)
    started = time.monotonic()
    first = await asyncio.wait_for(anext(follow), 10)
    await follow.aclose()

    assert first == HEARTBEAT and idle_checks  # the idle check that settles lost runs ran
    assert time.monotonic() - started >= 5.9
    timeout = relay.get_redis().connection_pool.connection_kwargs["socket_timeout"]
    assert timeout == 6.5 > settings.GENERATION_SSE_HEARTBEAT


async def test_a_real_redis_restart_loses_no_text_and_no_stop(real_relay, settings):
    """redis-server killed mid-stream and started again empty: the mirror writes the stream
    again, the watcher shows each character once, and a Stop still reaches the task."""
    settings.GENERATION_SSE_HEARTBEAT = 0.2
    here, elsewhere = Registry("test-restart"), Registry("test-restart")  # two workers
    task = here.track(9, asyncio.create_task(forever()))
    here.listen_for_stops()
    log = EventLog(555)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    frames: list[bytes | Done] = []

    async def never_idle():
        return None

    async def watch():
        async for frame in relay.follow(555, after=0, heartbeat=0.2, when_idle=never_idle):
            frames.append(frame)

    watcher = asyncio.create_task(watch())
    texts = [f"line {n}. " for n in range(20)]
    for text in texts[:10]:
        log.add(Delta(text))
        await asyncio.sleep(0.005)
    await until(lambda: frames_text(frames) == "".join(texts[:10]))

    real_relay.kill()  # every connection breaks: the listener's, the watcher's, the mirror's
    for text in texts[10:15]:
        log.add(Delta(text))
        await asyncio.sleep(0.05)
    real_relay.start()  # empty: the stream and the subscriptions are gone
    for text in texts[15:]:
        log.add(Delta(text))
        await asyncio.sleep(0.005)
    log.finish(Done("done", {"generation": 555}))
    await asyncio.wait_for(publisher, 5)
    await asyncio.wait_for(watcher, 5)

    assert frames_text(frames) == "".join(texts)
    assert frames[-1] == Done("done", {"generation": 555}, 20)
    async with asyncio.timeout(5):
        while not await elsewhere.request_stop(9):  # until the listener has subscribed again
            await asyncio.sleep(0.01)
        with pytest.raises(asyncio.CancelledError):
            await task
    here.stop_listening()


async def test_relayed_watchers_share_one_blocking_read_and_leave_the_pool_room(
    real_relay, settings, caplog
):
    """Each relayed watcher once held a pooled connection while its own XREAD blocked: with
    150 of them, redis-py's default pool (100) was exhausted and the mirror's XADD failed as
    if Redis were away (seen at N=500 in the benchmark's image shape). Now the worker's
    reader reads all their streams with one XREAD on one connection (decision 57), and
    REDIS_MAX_CONNECTIONS (1000) still leaves room."""
    settings.GENERATION_SSE_HEARTBEAT = 5.0
    waiting = 150

    async def never_idle():
        return None

    async def watch(key: int) -> list[bytes | Done]:
        frames: list[bytes | Done] = []
        async for frame in relay.follow(key, after=0, heartbeat=5.0, when_idle=never_idle):
            frames.append(frame)
        return frames

    watchers = [asyncio.create_task(watch(7000 + n)) for n in range(waiting)]
    reader = relay.get_reader()
    await until(lambda: sum(map(len, reader.followers.values())) == waiting and reader.blocked)
    pool = relay.get_redis().connection_pool
    in_use = len(pool._in_use_connections)
    log = EventLog(7000)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    log.add(Delta("Through the relay."))
    log.finish(Done("done", {"generation": 7000}))
    await asyncio.wait_for(publisher, 5)
    frames = await asyncio.wait_for(watchers[0], 5)
    for watcher in watchers[1:]:
        watcher.cancel()
    await asyncio.gather(*watchers[1:], return_exceptions=True)

    assert in_use == 1  # the reader's blocking XREAD, for all 150
    assert frames_text(frames) == "Through the relay."
    assert frames[-1] == Done("done", {"generation": 7000}, 1)
    assert "unavailable" not in caplog.text
    assert pool.max_connections == settings.REDIS_MAX_CONNECTIONS == 1000
