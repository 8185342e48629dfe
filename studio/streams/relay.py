"""Cross-worker streaming through Redis (used only when REDIS_URL is set).

- The runner's process mirrors each event log into a Redis stream (``publish``): one entry
  per batch, with the batch's first sequence number and its items, and a final entry
  carrying the ``Done`` (status and ids, no HTML). Watchers in any worker ``follow`` it from
  the browser's Last-Event-ID, exactly as local watchers follow the in-memory log.
- A stop asked for in any worker reaches the runner through a pub/sub channel
  (``request_cancel`` → ``listen_for_cancels`` in every runner process).
- Each kind of stream (generations, assistant answers) has keys of its own: ``stream_key``.

Entry ids are ``0-<last sequence number of the batch>``: monotonic, and a reader can
resume after any sequence number with XREAD.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import redis.asyncio as aioredis
from django.conf import settings

from .events import Done, EventLog, Pacing
from .framing import HEARTBEAT, delta_frames

logger = logging.getLogger(__name__)

CANCEL_CHANNEL = "studio:generation:cancel"
RUNNING_TTL = 24 * 3600
FINISHED_TTL = 3600

_current: tuple[asyncio.AbstractEventLoop, aioredis.Redis] | None = None


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def stream_key(key: int, kind: str = "generation") -> str:
    """The Redis stream of one log (a generation's by default, or an assistant answer's)."""
    return f"studio:{kind}:{key}:events"


def get_redis() -> aioredis.Redis:
    """One Redis connection pool per event loop (like the DeepSeek client)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        _current = (loop, aioredis.Redis.from_url(settings.REDIS_URL))
    return _current[1]


# The logs this process is mirroring, paced like local watchers (``events.Pacing``).
publishers = Pacing()


async def publish(log: EventLog, *, batch: float, rate: float = 0, key: str | None = None) -> None:
    """Mirror ``log`` into its Redis stream (``key``, a generation's by default), one entry
    per batch (paced as ``events.follow`` paces frames), until the final entry."""
    redis, key = get_redis(), key or stream_key(log.key)
    sent = 0
    await redis.delete(key)  # a stream left by an earlier run of this id must not be replayed
    with publishers.counting():
        while True:
            if len(log.items) > sent:
                start, items = sent + 1, log.items[sent:]
                sent = len(log.items)
                fields = {"start": start, "items": json.dumps(items, ensure_ascii=False)}
                await redis.xadd(key, fields, id=f"0-{sent}")
                if start == 1:
                    await redis.expire(key, RUNNING_TTL)
                await asyncio.sleep(publishers.interval(ceiling=batch, rate=rate))
            elif log.done is not None:
                final = {"done": json.dumps(log.done.as_json()), "seq": sent}
                await redis.xadd(key, final, id=f"0-{sent + 1}")
                await redis.expire(key, FINISHED_TTL)
                return
            else:
                await log.wait(sent, timeout=60)


async def follow(
    log_key: int,
    *,
    after: int,
    heartbeat: float,
    when_idle: Callable[[], Awaitable[Done | None]],
    key: str | None = None,
) -> AsyncIterator[bytes | Done]:
    """SSE frames from a generation's Redis stream (or ``key``'s) after sequence ``after``,
    then its ``Done``.

    ``when_idle`` runs after each quiet heartbeat period; if it returns a ``Done`` (the
    runner is gone and what it ran has been settled), that ends the stream.
    """
    redis, key = get_redis(), key or stream_key(log_key)
    last_id = f"0-{after}"
    while True:
        response = await redis.xread({key: last_id}, block=int(heartbeat * 1000), count=100)
        if not response:
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
            after = start + len(items) - 1
            for frame in delta_frames(new, after):
                yield frame


async def request_cancel(key: int, channel: str = CANCEL_CHANNEL) -> int:
    """Ask whichever process runs ``key`` (a generation) to stop it; returns how many listened."""
    return await get_redis().publish(channel, str(key))


async def listen_for_cancels(cancel: Callable[[int], bool], channel: str = CANCEL_CHANNEL) -> None:
    """Run in every runner process: stop local runs that any worker was asked to stop."""
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                cancel(int(message["data"]))
    finally:
        await pubsub.aclose()
