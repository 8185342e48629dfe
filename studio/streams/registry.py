"""The running tasks of one kind of stream (generations, assistant answers) in this process:
their event logs, their heartbeat in the shared cache, stopping them from any worker, and
ending them all when the worker shuts down.

A task runs independently of the request that started it and of the SSE connections that
watch it. While it runs, a heartbeat in the shared cache (``alive_key``, renewed every third
of ``heartbeat_ttl``) tells every worker that it is alive: one marked active in the database
without a heartbeat was lost (a crash) and its owner settles it. A heartbeat outlives a cache
(Redis) outage, and one that cannot be read counts as alive: a gap is not a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from studio import background

from . import relay
from .events import EventLog

logger = logging.getLogger(__name__)

HEARTBEAT_TTL = 15
# Redis pub/sub channels are not per database: the test suite gives each xdist worker its own.
CANCEL_CHANNEL_PREFIX = "studio"
# A finished log stays a while so a watcher that reconnects late still gets the final event.
FINISHED_LOG_TTL = 60.0


class Heartbeats:
    """Every heartbeat of this worker's runs with one TTL on one event loop, beaten together:
    one call to the shared cache per period (a third of the TTL) sets all their keys, not one
    call (a trip to the runners' database thread, or to Redis) per run.

    A run joins with ``add`` and leaves with ``remove``. Its key is set at once unless the
    caller set it already (``marked``: ``mark_alive`` before the run started, whose key lives
    a whole TTL), then with every period's beat. Beats outlive a cache outage: a beat that
    fails is tried again (backoff, at most REDIS_BACKOFF_CAP seconds apart), every key with
    it, so the keys are back within that of the cache returning. ``remove`` lets a beat in
    flight that sets its key land first, so the caller can delete the key after it. The task
    that beats runs while some run is in: started by the first, ended with the last."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.keys: set[str] = set()
        self.fresh: set[str] = set()  # to set at once, not at the next period
        self.beat: asyncio.Future[None] | None = None
        self.beating: frozenset[str] = frozenset()  # the keys the beat in flight sets
        self.task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def add(self, key: str, *, marked: bool = False) -> None:
        self.keys.add(key)
        if not marked:
            self.fresh.add(key)
            self._wake.set()
        if self.task is None or self.task.done():
            self.fresh.update(self.keys - {key})  # any left by a task that ended unexpectedly
            # Outside the run's context, on the runners' database thread (as each run's own
            # beats were): it outlives the run that started it.
            self.task = background.start(self.run(), name="heartbeats", keep_request_id=False)

    async def remove(self, key: str) -> None:
        self.keys.discard(key)
        self.fresh.discard(key)
        if not self.keys:
            self._wake.set()  # nothing left to beat: the task ends now, not a period later
        beat = self.beat
        if beat is not None and not beat.done() and key in self.beating:
            await asyncio.wait([beat], timeout=settings.REDIS_SOCKET_TIMEOUT)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        # Every key is fresh (set at once) or marked (set a TTL ago at most): the first
        # periodic beat comes a period on, even for the run that started this task.
        attempt, due = 0, loop.time() + self.ttl / 3
        while self.keys:
            now = loop.time()
            periodic = now >= due
            batch = frozenset(self.keys if periodic else self.fresh)
            if not batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(due - now):
                        await self._wake.wait()
                continue
            self.fresh.difference_update(batch)
            self.beating = batch
            self.beat = asyncio.ensure_future(_beat(batch, self.ttl))
            self.beat.add_done_callback(_retrieved)
            try:
                await asyncio.shield(self.beat)
            except Exception as error:  # whatever the cache raises when its server is away
                await asyncio.sleep(HEARTBEATS.failed(error, attempt))
                attempt += 1
                due = loop.time()  # every key again, the ones that failed with them
                continue
            if attempt:
                attempt = 0
                HEARTBEATS.recovered()
            if periodic:
                due = loop.time() + self.ttl / 3


async def _beat(keys: frozenset[str], ttl: float) -> None:
    """One call for all ``keys``: ``set_many`` (a Redis pipeline; the local-memory cache's
    loop over ``set``) in one trip to a thread, where ``aset_many`` would make one per key
    with a cache that has no ``set_many`` of its own."""
    await sync_to_async(cache.set_many, thread_sensitive=True)(dict.fromkeys(keys, 1), ttl)


_heartbeats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, Heartbeats]] = (
    weakref.WeakKeyDictionary()
)


def heartbeats(ttl: float) -> Heartbeats:
    """This event loop's heartbeats of that TTL (one per TTL: every registry's runs)."""
    by_ttl = _heartbeats.setdefault(asyncio.get_running_loop(), {})
    if ttl not in by_ttl:
        by_ttl[ttl] = Heartbeats(ttl)
    return by_ttl[ttl]


def _retrieved(beat: asyncio.Future[None]) -> None:
    """A beat's error is handled where it is awaited; one nobody awaits any more is dropped."""
    if not beat.cancelled():
        beat.exception()


HEARTBEATS, LIVENESS = relay.Outage("heartbeats"), relay.Outage("liveness checks")


def _heartbeat_unreadable(error: Exception) -> bool:
    """A heartbeat that cannot be read says nothing: the run counts as alive (a gap in the
    heartbeats during an outage is not a crash)."""
    LIVENESS.failed(error, 0)
    return True


class Registry:
    """The running tasks and event logs of one ``kind`` of stream in this process."""

    def __init__(self, kind: str, *, heartbeat_ttl: float | None = None) -> None:
        self.kind = kind
        self._heartbeat_ttl = heartbeat_ttl
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.logs: dict[int, EventLog] = {}
        self.stop_requested: set[int] = set()  # being cancelled by a stop, not a shutdown
        # Per event loop: the task relaying stops asked for in other workers (Redis only).
        self._listener: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
        self._subscribed = 0  # this process's listeners subscribed to its channels now
        _registries.append(self)

    @property
    def cancel_channel(self) -> str:
        """The Redis pub/sub channel that carries stops to the worker running the stream."""
        return f"{CANCEL_CHANNEL_PREFIX}:{self.kind}:cancel"

    @property
    def watch_channel(self) -> str:
        """The Redis pub/sub channel where a watcher in another worker says it follows a
        stream's mirror (``relay.follow(announce=...)``)."""
        return f"{CANCEL_CHANNEL_PREFIX}:{self.kind}:watch"

    # Keys in the shared cache and in Redis.
    @property
    def heartbeat_ttl(self) -> float:
        """Given, or GENERATION_HEARTBEAT_TTL (HEARTBEAT_TTL, 15 s, by default)."""
        return self._heartbeat_ttl or getattr(settings, "GENERATION_HEARTBEAT_TTL", HEARTBEAT_TTL)

    def alive_key(self, key: int) -> str:
        return f"studio:{self.kind}-alive:{key}"

    def stream_key(self, key: int) -> str:
        return relay.stream_key(key, self.kind)

    # Event logs.
    def open_log(self, key: int) -> EventLog:
        log = self.logs[key] = EventLog(key)
        return log

    def get_log(self, key: int) -> EventLog | None:
        return self.logs.get(key)

    def discard_log(self, key: int) -> None:
        self.logs.pop(key, None)

    def discard_later(self, key: int, delay: float = FINISHED_LOG_TTL) -> None:
        """Forget a finished log once late reconnects have had their chance."""
        asyncio.get_running_loop().call_later(delay, self.discard_log, key)

    # Tasks.
    def track(self, key: int, task: asyncio.Task[None]) -> asyncio.Task[None]:
        """Hold ``task`` as the one running ``key`` here until it ends."""
        self.tasks[key] = task
        task.add_done_callback(lambda _: self.tasks.pop(key, None))
        return task

    def is_live(self, key: int) -> bool:
        """Whether this process is running it. A task that has just ended stays in ``tasks``
        until its done callback runs (the next turn of the loop): it no longer counts."""
        task = self.tasks.get(key)
        return task is not None and not task.done()

    def task_for(self, key: int) -> asyncio.Task[None] | None:
        return self.tasks.get(key)

    # Liveness across workers.
    def mark_alive(self, key: int, ttl: float | None = None) -> None:
        """The first beat, before the run starts. A cache that is away is no reason not to
        start it: its heartbeat sets the key once the cache is back."""
        try:
            cache.set(self.alive_key(key), 1, ttl or self.heartbeat_ttl)
        except Exception as error:
            HEARTBEATS.failed(error, 0)

    async def amark_alive(self, key: int, ttl: float | None = None) -> None:
        try:
            await cache.aset(self.alive_key(key), 1, ttl or self.heartbeat_ttl)
        except Exception as error:  # as mark_alive: its heartbeat sets it once the cache is back
            HEARTBEATS.failed(error, 0)

    async def amark_gone(self, key: int) -> None:
        await cache.adelete(self.alive_key(key))

    def is_alive(self, key: int) -> bool:
        """Whether some worker runs it: here, or its heartbeat is in the shared cache (sync).

        A cache that cannot be read (Redis away) answers yes: unknown is never lost."""
        if self.is_live(key):
            return True
        try:
            beat = cache.get(self.alive_key(key))
        except Exception as error:
            return _heartbeat_unreadable(error)
        LIVENESS.recovered()
        return beat is not None

    async def ais_alive(self, key: int) -> bool:
        if self.is_live(key):
            return True
        try:
            beat = await cache.aget(self.alive_key(key))
        except Exception as error:
            return _heartbeat_unreadable(error)
        LIVENESS.recovered()
        return beat is not None

    @contextlib.asynccontextmanager
    async def heartbeat(self, key: int, *, marked: bool = False) -> AsyncIterator[None]:
        """A heartbeat while the block runs; gone as soon as it ends.

        It beats with every other run of this worker, in one call per period
        (:class:`Heartbeats`). The block never waits for the cache (a thread-sensitive call
        that may queue behind the database): the first beat is the beating task's, at once,
        or with the next period's when ``marked`` (the caller set the key already, with
        ``mark_alive``, as ``launch`` does). Whoever needs the key set before the block
        starts sets it first."""
        alive = self.alive_key(key)
        beats = heartbeats(self.heartbeat_ttl)
        beats.add(alive, marked=marked)
        try:
            yield
        finally:
            await beats.remove(alive)
            try:  # it expires by itself if the cache is away
                await cache.adelete(alive)
            except Exception as error:
                logger.warning("Could not delete the heartbeat %s (%r)", alive, error)

    # Mirroring to Redis.
    def mirror(self, log: EventLog) -> asyncio.Task[None] | None:
        """Start mirroring ``log`` into Redis (when configured); None without Redis.

        While this worker hears watchers announce themselves (its listener is subscribed), a
        log nobody follows elsewhere is mirrored one entry per GENERATION_MIRROR_INTERVAL;
        otherwise (no listener yet, or Redis away when it starts) a batch every
        GENERATION_SSE_BATCH."""
        if not relay.enabled():
            return None
        batch = settings.GENERATION_SSE_BATCH
        unwatched = settings.GENERATION_MIRROR_INTERVAL if self._subscribed else None
        key = self.stream_key(log.key)
        publish = relay.publish(log, batch=batch, key=key, unwatched=unwatched)
        return asyncio.create_task(publish)

    def watched(self, key: int) -> None:
        """A watcher in another worker follows ``key``: its mirror carries every batch."""
        if (log := self.logs.get(key)) is not None:
            log.watch_elsewhere()

    async def settle_mirror(self, task: asyncio.Task[None] | None) -> None:
        """Let the Redis mirror write the final entry; never let it outlive the run."""
        if task is None:
            return
        try:
            await asyncio.wait_for(task, timeout=5)
        except TimeoutError:  # Redis is away: watchers elsewhere get the end from the database
            logger.warning("Could not relay the end of %s %s to Redis in time", self.kind, task)
        except Exception:
            logger.exception("Could not relay the end of %s %s to Redis", self.kind, task)

    # Stopping.
    def cancel(self, key: int) -> bool:
        """Stop a task running here (a stop, not a shutdown); False if it is not running here."""
        task = self.tasks.get(key)
        if task is None:
            return False
        self.stop_requested.add(key)
        task.cancel()
        return True

    def was_stopped(self, key: int) -> bool:
        """Whether its task was cancelled by a stop (else by the worker shutting down)."""
        return key in self.stop_requested

    def forget_stop(self, key: int) -> None:
        self.stop_requested.discard(key)

    async def request_stop(self, key: int) -> bool:
        """Stop it here, or ask the worker that runs it through Redis; False if none did."""
        if self.cancel(key):
            return True
        if not relay.enabled():
            return False
        heard = await relay.request_cancel(key, self.cancel_channel)
        # Redis counts this process's own listener too, which does not run it (just tried):
        # after an outage it may be the only one subscribed again, and no runner heard it.
        return heard - self._subscribed > 0

    def listen_for_stops(self) -> None:
        """Make sure this worker hears stops asked for in other workers, and watchers in
        other workers of the streams it runs (Redis only)."""
        if not relay.enabled():
            return
        loop = asyncio.get_running_loop()
        if self._listener is None or self._listener[0] is not loop or self._listener[1].done():
            handlers = {self.cancel_channel: self.cancel, self.watch_channel: self.watched}
            # A fresh context: it lives as long as the worker, not the request that started it.
            task = loop.create_task(
                relay.listen(handlers, self._count),
                name=f"{self.kind}-cancel-listener",
                context=contextvars.Context(),
            )
            self._listener = (loop, task)

    def _count(self, subscribed: bool) -> None:
        self._subscribed += 1 if subscribed else -1

    def stop_listening(self) -> asyncio.Task[None] | None:
        """Cancel this loop's Stop listener (it unsubscribes); the task, to wait for."""
        listener = self._listener
        if listener is None or listener[0] is not asyncio.get_running_loop():
            return None
        self._listener = None
        listener[1].cancel()
        return listener[1]


_registries: list[Registry] = []


async def shutdown(timeout: float = 10.0) -> None:
    """Worker shutdown: cancel every running task (each ends as interrupted, text kept) and
    this loop's Stop listeners."""
    tasks = [task for registry in _registries for task in registry.tasks.values()]
    for task in tasks:
        task.cancel()
    tasks += [task for registry in _registries if (task := registry.stop_listening())]
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
