"""Cross-worker streaming through Redis (used only when REDIS_URL is set).

- The runner's process mirrors each event log into a Redis stream (``publish``): one entry
  per batch, with the batch's first sequence number and its items, and a final entry
  carrying the ``Done`` (status and ids, no HTML). Watchers in any worker ``follow`` it from
  the browser's Last-Event-ID, exactly as local watchers follow the in-memory log.
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

_current: tuple[asyncio.AbstractEventLoop, aioredis.Redis] | None = None
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
    A pool opens up to REDIS_MAX_CONNECTIONS: each relayed watcher holds one while it blocks."""
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


def get_redis() -> aioredis.Redis:
    """One Redis connection pool per event loop (like the DeepSeek client)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        _current = (loop, aioredis.Redis.from_url(settings.REDIS_URL, **client_options()))
    return _current[1]


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
    while True:
        try:
            client = get_redis()
            if not cleared:  # a stream left by an earlier run of this id must not be replayed
                await client.delete(key)
                cleared = True
            elif attempt:  # resuming after a failure (a restarted Redis may hold nothing)
                sent, finished = await _written(client, key)
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
                    await _add(client, key, fields, end)
                    sent = end
                    if not expiring:
                        await client.expire(key, RUNNING_TTL)
                        expiring = True
                    if unwatched is None or log.watched_elsewhere:
                        ready = clock() + batch
                    else:
                        await log.until_watched_or_done(unwatched)
                elif log.done is not None:
                    final = {"done": json.dumps(log.done.as_json()), "seq": sent}
                    await _add(client, key, final, sent + 1)
                    await client.expire(key, FINISHED_TTL)
                    return
                else:
                    await log.wait(sent, timeout=60)
        except UNAVAILABLE as error:
            await asyncio.sleep(MIRRORS.failed(error, attempt))
            attempt += 1


async def _add(client: aioredis.Redis, key: str, fields: dict[str, Any], seq: int) -> None:
    """XADD with the id ``0-<seq>``; one that is there already (a retried write whose first
    try landed) is fine: an id not above the stream's last is refused, and nothing is lost."""
    try:
        await client.xadd(key, fields, id=f"0-{seq}")
    except ResponseError as error:
        if "equal or smaller" not in str(error):
            raise
        logger.debug("Stream %s already holds entry 0-%s", key, seq)


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
    then its ``Done``.

    ``announce`` (a channel the runners' workers ``listen`` to): this watcher says so there
    first, and again once Redis is back after an outage, so the runner mirrors every batch at
    once rather than one per GENERATION_MIRROR_INTERVAL (``publish``).

    ``when_idle`` runs after each quiet heartbeat period; if it returns a ``Done`` (the
    runner is gone and what it ran has been settled), that ends the stream. While Redis is
    unavailable the watcher keeps its connection: a heartbeat (and the idle check) every
    ``heartbeat`` seconds, and it reads on from its last entry once Redis is back.
    """
    key = key or stream_key(log_key)
    last_id = f"0-{after}"
    block = int(min(heartbeat, block_seconds()) * 1000)  # within the client's read timeout
    attempt, quiet_since, announced = 0, time.monotonic(), announce is None
    while True:
        try:
            if not announced:
                await get_redis().publish(announce, str(log_key))
                announced = True
            response = await get_redis().xread({key: last_id}, block=block, count=100)
        except UNAVAILABLE as error:
            await asyncio.sleep(WATCHERS.failed(error, attempt))
            attempt += 1
            announced = announce is None  # the runner's listener may have missed it: again
            if time.monotonic() - quiet_since < heartbeat:
                continue
            response = None
        else:
            if attempt:
                attempt = 0
                WATCHERS.recovered()
        if not response:
            quiet_since = time.monotonic()
            done = await when_idle()
            if done is not None:
                yield replace(done, seq=after)
                return
            yield HEARTBEAT
            continue
        for entry_id, fields in response[0][1]:
            last_id = entry_id
            if b"done" in fields:
                yield Done.from_json(json.loads(fields[b"done"]), int(fields[b"seq"]))
                return
            start = int(fields[b"start"])
            items = [tuple(item) for item in json.loads(fields[b"items"])]
            new = items[max(0, after - start + 1) :]
            after = max(after, start + len(items) - 1)
            for frame in delta_frames(new, after):
                yield frame
        quiet_since = time.monotonic()


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
