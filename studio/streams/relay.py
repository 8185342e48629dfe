"""Cross-worker streaming through Redis (used only when REDIS_URL is set).

- The runner's process mirrors each event log into a Redis stream (``publish``): one entry
  per batch, with the batch's first sequence number and its items, and a final entry
  carrying the ``Done`` (status and ids, no HTML). Watchers in any worker ``follow`` it from
  the browser's Last-Event-ID, exactly as local watchers follow the in-memory log. Per
  worker, one ``Reader`` reads the streams of all its watchers with one blocking XREAD, and
  one ``Writer`` sends all its mirrors' writes in one pipeline a round trip.
- A stop asked for in any worker reaches the runner through a pub/sub channel
  (``request_cancel`` → ``listen`` in every runner process). So does a watcher in another
  worker (``follow(announce=...)``): only then does the mirror carry a batch every
  GENERATION_SSE_BATCH; a log nobody follows elsewhere is mirrored one entry per
  GENERATION_MIRROR_INTERVAL, a copy for a crash and for late watchers.
- Each kind of stream (generations, assistant answers) has keys of its own: ``stream_key``.

Entry ids are ``0-<last sequence number of the batch>``: monotonic, and a reader can
resume after any sequence number with XREAD.

Redis may go away for a while (a restart, a failover, a network blip). Every client here has
explicit socket timeouts, longer than its longest blocking read, and retries a failed
command with exponential backoff (``client_options``); the mirror, the stop listener and
the watchers are loops that outlive an outage and resume where they were (``Outage`` logs
one WARNING when it starts and one when it ends, not one per attempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from .events import Done, EventLog, until
from .framing import HEARTBEAT, delta_frames

logger = logging.getLogger(__name__)

CANCEL_CHANNEL = "studio:generation:cancel"
RUNNING_TTL = 24 * 3600
FINISHED_TTL = 3600
# What an unreachable Redis raises (refused, reset, timed out): a loop waits and tries again.
UNAVAILABLE: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
BACKOFF_BASE = 0.05  # the first wait after a failure; doubled each time up to the cap

_sync: redis.Redis | None = None


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def stream_key(key: int, kind: str = "generation") -> str:
    """The Redis stream of one log (a generation's by default, or an assistant answer's)."""
    return f"studio:{kind}:{key}:events"


def block_seconds() -> float:
    """The longest a command here blocks on purpose: a watcher's XREAD, one heartbeat."""
    return settings.GENERATION_SSE_HEARTBEAT


def client_options(*, sync: bool = False) -> dict[str, Any]:
    """Timeouts and retries for a Redis client: a read may take its block plus
    REDIS_SOCKET_TIMEOUT (never less than its own block, or a quiet watcher's XREAD would
    time out), a connection REDIS_CONNECT_TIMEOUT; a command that fails to connect or times
    out is tried REDIS_RETRIES more times, with exponential backoff up to REDIS_BACKOFF_CAP.
    A pool opens up to REDIS_MAX_CONNECTIONS, one per command in flight (the relayed
    watchers of a worker share one blocking XREAD: ``Reader``)."""
    backoff = ExponentialBackoff(cap=settings.REDIS_BACKOFF_CAP, base=BACKOFF_BASE)
    retry = (Retry if sync else AsyncRetry)(backoff, settings.REDIS_RETRIES)
    return {
        "socket_timeout": block_seconds() + settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "health_check_interval": settings.REDIS_HEALTH_CHECK_INTERVAL,
        "retry": retry,
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "max_connections": settings.REDIS_MAX_CONNECTIONS,
    }


def _one_per_loop[T](make: Callable[[], T]) -> Callable[[], T]:
    """A getter of ``make()``'s object for the running event loop, made anew for another
    loop (what it holds, like a Redis client, belongs to one loop)."""
    held: list[tuple[asyncio.AbstractEventLoop, T]] = []

    def get() -> T:
        loop = asyncio.get_running_loop()
        if not held or held[0][0] is not loop:
            held[:] = [(loop, make())]
        return held[0][1]

    return get


def _redis() -> aioredis.Redis:
    return aioredis.Redis.from_url(settings.REDIS_URL, **client_options())


get_redis = _one_per_loop(_redis)  # one Redis connection pool per event loop


def get_sync_redis() -> redis.Redis:
    """A blocking client for sync code (settling a lost generation); thread-safe pool."""
    global _sync
    if _sync is None:
        _sync = redis.Redis.from_url(settings.REDIS_URL, **client_options(sync=True))
    return _sync


class Outage:
    """The state of one kind of loop (heartbeats, the mirror, ...) against Redis: one WARNING
    when Redis first fails it, one when it works again; in between, each attempt waits
    longer (``backoff``), up to REDIS_BACKOFF_CAP."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None

    def failed(self, error: BaseException, attempt: int) -> float:
        """Note a failure (the ``attempt``-th in a row of one loop); how long to wait."""
        if self.since is None:
            self.since = time.monotonic()
            logger.warning("Redis is unavailable to the %s (%r); retrying", self.what, error)
        return backoff(attempt)

    def recovered(self) -> None:
        if self.since is not None:
            down, self.since = time.monotonic() - self.since, None
            logger.warning("Redis is back for the %s after %.1f s", self.what, down)


def backoff(attempt: int) -> float:
    """The wait before retry ``attempt`` (0, 1, ...): exponential, capped."""
    return min(settings.REDIS_BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempt, 30))


# Each kind of loop shares one: an outage is logged once, not once per stream.
MIRRORS, LISTENERS, WATCHERS = Outage("relay mirror"), Outage("stop listener"), Outage("watchers")


async def _written(client: aioredis.Redis, key: str) -> tuple[int, bool]:
    """How many items the stream holds already, and whether its final entry is there."""
    last = await client.xrevrange(key, count=1)
    if not last:
        return 0, False
    entry_id, fields = last[0]
    if b"done" in fields:
        return int(fields[b"seq"]), True
    return int(entry_id.decode().partition("-")[2]), False


async def publish(
    log: EventLog,
    *,
    batch: float,
    key: str | None = None,
    unwatched: float | None = None,
) -> None:
    """Mirror ``log`` into its Redis stream (``key``, a generation's by default), one entry
    per batch, until the final entry. The first entry goes at once; after it, one entry per
    ``batch`` seconds at most, whatever the load: an entry costs the two workers about ten
    times what a local SSE frame costs (an XADD here and an XREAD there), so the tokens that
    come in between go in one (docs/decisions/0047-*.md).

    With ``unwatched`` (seconds; given when this worker hears watchers announce themselves,
    ``follow(announce=...)``), a log that no watcher in another worker follows is mirrored
    one entry per ``unwatched`` only: the mirror is then a copy kept for a crash and for late
    watchers, not a live feed. Its first entry goes at once, and the rest at once when a
    watcher elsewhere announces itself (``EventLog.watch_elsewhere``) or the log ends.

    It outlives Redis outages: after a failure it waits (backoff), asks the stream how far
    it got (a write whose answer was lost may have landed) and goes on from there; entries
    never repeat an id, and a watcher skips any item it has had (``follow``)."""
    key = key or stream_key(log.key)
    sent, cleared, expiring, attempt = 0, False, False, 0
    clock, ready = asyncio.get_running_loop().time, 0.0  # when the next batch may go
    writer = get_writer()
    while True:
        try:
            if cleared and attempt:  # resuming after a failure (a restarted Redis may be empty)
                sent, finished = await _written(get_redis(), key)
                expiring = expiring and sent > 0
                if finished:
                    return
            if attempt:
                attempt = 0
                MIRRORS.recovered()
            while True:
                if len(log.items) > sent:
                    await until(ready)
                    start, items = sent + 1, log.items[sent:]
                    end = sent + len(items)
                    fields = {"start": start, "items": json.dumps(items, ensure_ascii=False)}
                    # The first write clears a stream left by an earlier run of this id.
                    expire = None if expiring else RUNNING_TTL
                    await writer.add(key, fields, end, expire=expire, clear=not cleared)
                    sent, cleared, expiring = end, True, True
                    if unwatched is None or log.watched_elsewhere:
                        ready = clock() + batch
                    else:
                        await log.until_watched_or_done(unwatched)
                elif log.done is not None:
                    final = {"done": json.dumps(log.done.as_json()), "seq": sent}
                    await writer.add(key, final, sent + 1, expire=FINISHED_TTL, clear=not cleared)
                    return
                else:
                    await log.wait(sent, timeout=60)
        except UNAVAILABLE as error:
            await asyncio.sleep(MIRRORS.failed(error, attempt))
            attempt += 1


class Writer:
    """The mirrors of a worker write together: the entries they add while one pipeline is in
    flight go in the next, one round trip for all of them rather than one each (decision 57).

    An entry's id is ``0-<seq>``; one that is there already (a retried write whose first try
    landed) is fine: an id not above the stream's last is refused, and nothing is lost."""

    def __init__(self) -> None:
        self.pending: list[_Write] = []
        self.task: asyncio.Task[None] | None = None

    async def add(
        self,
        key: str,
        fields: dict[str, Any],
        seq: int,
        *,
        expire: int | None = None,
        clear: bool = False,
    ) -> None:
        """Add the entry ``0-<seq>`` to ``key`` (first deleting the stream, with ``clear``;
        then setting its time to live, with ``expire``); raises what its write met."""
        written = asyncio.get_running_loop().create_future()
        self.pending.append((key, fields, seq, expire, clear, written))
        if self.task is None:
            self.task = asyncio.create_task(self._write())
        await written

    async def _write(self) -> None:
        try:
            while self.pending:
                writes, self.pending = self.pending, []
                try:
                    async with get_redis().pipeline(transaction=False) as pipe:
                        for key, fields, seq, expire, clear, _ in writes:
                            if clear:
                                pipe.delete(key)
                            pipe.xadd(key, fields, id=f"0-{seq}")
                            if expire is not None:
                                pipe.expire(key, expire)
                        replies = iter(await pipe.execute(raise_on_error=False))
                except Exception as error:  # an outage: every write of the round failed
                    for *_, written in writes:
                        if not written.done():
                            written.set_exception(error)
                    continue
                for *_, expire, clear, written in writes:
                    own = [next(replies) for _ in range(1 + clear + (expire is not None))]
                    failed = [r for r in own if isinstance(r, Exception) and not _there(r)]
                    if written.done():  # its mirror was cancelled meanwhile
                        continue
                    if failed:
                        written.set_exception(failed[0])
                    else:
                        written.set_result(None)
        finally:
            self.task = None


_Write = tuple[str, dict[str, Any], int, int | None, bool, "asyncio.Future[None]"]


def _there(error: Exception) -> bool:
    """An XADD refused because its entry is there already (see ``Writer``)."""
    return isinstance(error, ResponseError) and "equal or smaller" in str(error)


get_writer = _one_per_loop(Writer)  # this worker's writer


class _Follower:
    """One relayed watcher: the entries the worker's ``Reader`` has read for it and it has
    not sent yet (a slow client's pile up to at most its stream's, one answer's, length)."""

    __slots__ = ("key", "read", "announce", "log_key", "entries", "arrived")

    def __init__(self, key: str, read: int, announce: str | None, log_key: int) -> None:
        self.key, self.read = key, read  # the last entry id read (0-<read>)
        self.announce, self.log_key = announce, log_key
        self.entries: list[tuple[bytes, dict[bytes, bytes]]] = []
        self.arrived = asyncio.Event()

    def receive(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Take the entries after the last it read (another watcher of the same stream in
        this worker may have read from further back)."""
        for entry in entries:
            seq = int(entry[0].partition(b"-")[2])
            if seq > self.read:
                self.entries.append(entry)
                self.read = seq
        if self.entries:
            self.arrived.set()

    async def next(self, timeout: float) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """The entries read since the last call; [] after ``timeout`` seconds of none."""
        if not self.entries:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), timeout)
        entries, self.entries = self.entries, []
        self.arrived.clear()
        return entries


class Reader:
    """Every relayed watcher of this worker read by one blocking XREAD over all their streams,
    not one each: a watcher costs its share of one round trip per batch, not a round trip of
    its own, and one pooled connection serves them all (docs/decisions/0057-*.md).

    A watcher who joins while the XREAD blocks wakes it (an entry in this reader's own wake
    stream, which the XREAD also reads) so that its stream is read at once. Announcements
    (``follow(announce=...)``) go before the next XREAD, and all again once Redis is back
    after an outage. Once its last watcher has left, its read in flight (at most a
    heartbeat) is its last."""

    def __init__(self) -> None:
        self.followers: dict[str, list[_Follower]] = {}
        self.task: asyncio.Task[None] | None = None
        self.blocked = False  # its XREAD is waiting in Redis: a newcomer must wake it
        self.wake_key = f"studio:relay-wake:{uuid.uuid4().hex}"
        self.woken = b"0-0"  # the last wake entry read (never "$": a wake that reaches Redis
        # before the XREAD it is meant for must still end that XREAD's wait)
        self.unannounced: list[_Follower] = []

    async def join(self, follower: _Follower) -> None:
        self.followers.setdefault(follower.key, []).append(follower)
        if follower.announce is not None:
            self.unannounced.append(follower)
        if self.task is None:
            self.task = asyncio.create_task(self._run())
        elif self.blocked:
            try:
                client = get_redis()
                async with client.pipeline(transaction=False) as pipe:
                    pipe.xadd(self.wake_key, {"w": 1}, maxlen=1, approximate=False)
                    pipe.expire(self.wake_key, RUNNING_TTL)
                    await pipe.execute()
            except UNAVAILABLE:  # the reader meets the outage too, and reads it afterwards
                pass

    def leave(self, follower: _Follower) -> None:
        group = self.followers.get(follower.key, [])
        if follower in group:
            group.remove(follower)
        if not group:
            self.followers.pop(follower.key, None)
        if follower in self.unannounced:
            self.unannounced.remove(follower)

    async def _run(self) -> None:
        block = int(block_seconds() * 1000)  # within the client's read timeout
        attempt = 0
        try:
            while self.followers:
                try:
                    client = get_redis()
                    while self.unannounced:
                        follower = self.unannounced.pop(0)
                        await client.publish(follower.announce, str(follower.log_key))
                    # From here to the read, no await: whoever joins later wakes it.
                    asked = {k: min(f.read for f in group) for k, group in self.followers.items()}
                    streams = {self.wake_key: self.woken} | {k: f"0-{r}" for k, r in asked.items()}
                    self.blocked = True
                    try:
                        response = await client.xread(streams, block=block, count=100)
                    finally:
                        self.blocked = False
                except UNAVAILABLE as error:
                    # The runners' listeners may have missed an announcement: all again.
                    self.unannounced = [
                        follower
                        for group in self.followers.values()
                        for follower in group
                        if follower.announce is not None
                    ]
                    await asyncio.sleep(WATCHERS.failed(error, attempt))
                    attempt += 1
                    continue
                except Exception:  # not an outage: the watchers heartbeat meanwhile
                    logger.exception("The relay's reader failed; reading again")
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
                    continue
                if attempt:
                    attempt = 0
                    WATCHERS.recovered()
                for name, entries in response or ():
                    key = name.decode()
                    if key == self.wake_key:
                        self.woken = entries[-1][0]
                    for follower in self.followers.get(key, ()):
                        # One who joined this stream meanwhile, from further back than was
                        # asked, gets it all in the next read, not a gap now.
                        if follower.read >= asked.get(key, follower.read + 1):
                            follower.receive(entries)
        finally:
            self.task = None


get_reader = _one_per_loop(Reader)  # this worker's reader


async def follow(
    log_key: int,
    *,
    after: int,
    heartbeat: float,
    when_idle: Callable[[], Awaitable[Done | None]],
    key: str | None = None,
    announce: str | None = None,
) -> AsyncIterator[bytes | Done]:
    """SSE frames from a generation's Redis stream (or ``key``'s) after sequence ``after``,
    then its ``Done``; read by this worker's ``Reader`` with every other relayed watcher's.

    ``announce`` (a channel the runners' workers ``listen`` to): this watcher says so there
    first, and again once Redis is back after an outage, so the runner mirrors every batch at
    once rather than one per GENERATION_MIRROR_INTERVAL (``publish``).

    ``when_idle`` runs after each quiet heartbeat period; if it returns a ``Done`` (the
    runner is gone and what it ran has been settled), that ends the stream. While Redis is
    unavailable the watcher keeps its connection: a heartbeat (and the idle check) every
    ``heartbeat`` seconds, and it reads on from its last entry once Redis is back.
    """
    reader = get_reader()
    follower = _Follower(key or stream_key(log_key), after, announce, log_key)
    try:  # a watcher that goes while it joins (its wake in flight) must leave too
        await reader.join(follower)
        while True:
            entries = await follower.next(heartbeat)
            if not entries:
                done = await when_idle()
                if done is not None:
                    yield replace(done, seq=after)
                    return
                yield HEARTBEAT
                continue
            for _entry_id, fields in entries:
                if b"done" in fields:
                    yield Done.from_json(json.loads(fields[b"done"]), int(fields[b"seq"]))
                    return
                start = int(fields[b"start"])
                items = [tuple(item) for item in json.loads(fields[b"items"])]
                new = items[max(0, after - start + 1) :]
                after = max(after, start + len(items) - 1)
                for frame in delta_frames(new, after):
                    yield frame
    finally:
        reader.leave(follower)


async def replay(
    log_key: int, *, after: int, heartbeat: float, end: Done, key: str | None = None
) -> AsyncIterator[bytes | Done]:
    """A finished stream for a watcher who comes late, in a worker that never held its log:
    its frames after ``after`` from the Redis mirror (kept FINISHED_TTL after the end), then
    its end, exactly as a watcher in the runner's worker replays the local log. Under load
    the SSE GET can reach the other worker after the generation has ended; without this,
    that watcher saw the end and none of the text before it.

    Only ``end`` when the mirror is gone (expired, never written: a cached answer) or Redis
    cannot be read. A mirror still without its final entry (the runner writing its last
    batches) is followed live; ``end`` closes it after one quiet heartbeat if it never comes.
    """
    key = key or stream_key(log_key)
    try:
        mirrored = await get_redis().exists(key)
    except UNAVAILABLE as error:
        logger.warning("Could not read %s from Redis (%r)", key, error)
        mirrored = False
    if not mirrored:
        yield end
        return

    async def ended() -> Done:
        return end

    async for frame in follow(log_key, after=after, heartbeat=heartbeat, when_idle=ended, key=key):
        yield frame


def read_texts(key: str) -> tuple[str, str] | None:
    """The content and reasoning a mirrored stream holds (sync): what a runner had sent when
    it was lost, up to its last batch. None when the stream is gone or does not start at the
    first item (expired, or never mirrored), or Redis cannot be read."""
    try:
        entries = get_sync_redis().xrange(key)
    except UNAVAILABLE as error:
        logger.warning("Could not read %s from Redis (%r)", key, error)
        return None
    items: list[tuple[str, str]] = []
    for _entry_id, fields in entries:
        if b"done" in fields:
            break
        start = int(fields[b"start"])
        if start > len(items) + 1:
            return None  # a gap: not the whole text
        batch = [tuple(item) for item in json.loads(fields[b"items"])]
        items.extend(batch[len(items) - start + 1 :])
    if not items:
        return None
    content = "".join(text for kind, text in items if kind == "content")
    reasoning = "".join(text for kind, text in items if kind == "reasoning")
    return content, reasoning


async def request_cancel(key: int, channel: str = CANCEL_CHANNEL) -> int:
    """Ask whichever process runs ``key`` (a generation) to stop it; returns how many listened."""
    return await get_redis().publish(channel, str(key))


async def listen(
    handlers: dict[str, Callable[[int], object]],
    subscribed: Callable[[bool], None] = lambda _: None,
) -> None:
    """Run in every runner process: hand each id published on a channel of ``handlers``
    (a stop asked for in any worker, a watcher in another worker) to that channel's handler.
    ``subscribed`` hears when it is subscribed (True) and when no longer (False).

    For the life of the worker: when Redis fails, it waits (backoff) and subscribes again."""
    attempt = 0
    by_channel = {channel.encode(): handler for channel, handler in handlers.items()}
    while True:
        pubsub = get_redis().pubsub()
        listening = False
        try:
            await pubsub.subscribe(*handlers)
            listening = True
            subscribed(True)
            if attempt:
                attempt = 0
                LISTENERS.recovered()
            async for message in pubsub.listen():
                if message.get("type") == "message" and message["data"].isdigit():
                    by_channel[message["channel"]](int(message["data"]))
            delay = backoff(attempt)  # unsubscribed under it: subscribe again
        except UNAVAILABLE as error:
            delay = LISTENERS.failed(error, attempt)
            attempt += 1
        finally:
            if listening:
                subscribed(False)
            await _close(pubsub)
        await asyncio.sleep(delay)


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(*UNAVAILABLE):  # its connection is gone already
        await pubsub.aclose()
