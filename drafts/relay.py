"""Cross-worker streaming through Redis (used only when REDIS_URL is set).

- The runner's process mirrors each generation's event log into a Redis stream
  (``publish``): one entry per batch, with the batch's first sequence number and its items,
  and a final entry carrying the rendered draft. Watchers in any worker ``follow`` it from
  the browser's Last-Event-ID, exactly as local watchers follow the in-memory log.
- The Stop button in any worker reaches the runner through a pub/sub channel
  (``request_cancel`` → ``listen_for_cancels`` in every runner process).
- The assistant panel's answers (studio.assistant.runner) are mirrored the same way, under
  keys of their own (``assistant_key``): ``publish`` and ``follow`` take the ``key``.

Entry ids are ``0-<last sequence number of the batch>``: monotonic, and a reader can
resume after any sequence number with XREAD.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis
from django.conf import settings

from .events import HEARTBEAT, GenerationLog, Pacing, delta_frames, sse_event

logger = logging.getLogger(__name__)

CANCEL_CHANNEL = "studio:generation:cancel"
RUNNING_TTL = 24 * 3600
FINISHED_TTL = 3600

_current: tuple[asyncio.AbstractEventLoop, aioredis.Redis] | None = None


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def stream_key(generation_id: int) -> str:
    return f"studio:generation:{generation_id}:events"


def assistant_key(message_id: int) -> str:
    """The stream of an assistant answer (its log's id is the message's)."""
    return f"studio:assistant:{message_id}:events"


def get_redis() -> aioredis.Redis:
    """One Redis connection pool per event loop (like the DeepSeek client)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        _current = (loop, aioredis.Redis.from_url(settings.REDIS_URL))
    return _current[1]


# The logs this process is mirroring, paced like local watchers (drafts.events.Pacing).
publishers = Pacing()


async def publish(
    log: GenerationLog, *, batch: float, rate: float = 0, key: str | None = None
) -> None:
    """Mirror ``log`` into its Redis stream (``key``, a generation's by default), one entry
    per batch (paced as ``drafts.events.follow`` paces frames), until the final entry."""
    redis, key = get_redis(), key or stream_key(log.generation_id)
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
            elif log.final_html is not None:
                final = {"final": log.final_html, "seq": sent}
                await redis.xadd(key, final, id=f"0-{sent + 1}")
                await redis.expire(key, FINISHED_TTL)
                return
            else:
                await log.wait(sent, timeout=60)


async def follow(
    generation_id: int,
    *,
    after: int,
    heartbeat: float,
    when_idle: Callable[[], Awaitable[str | None]],
    key: str | None = None,
) -> AsyncIterator[bytes]:
    """SSE frames from a generation's Redis stream (or ``key``'s) after sequence ``after``,
    until done.

    ``when_idle`` runs after each quiet heartbeat period; if it returns HTML (the runner is
    gone and the generation has been settled), that becomes the final event.
    """
    redis, key = get_redis(), key or stream_key(generation_id)
    last_id = f"0-{after}"
    while True:
        response = await redis.xread({key: last_id}, block=int(heartbeat * 1000), count=100)
        if not response:
            final = await when_idle()
            if final is not None:
                yield sse_event("done", final, after)
                return
            yield HEARTBEAT
            continue
        for entry_id, fields in response[0][1]:
            last_id = entry_id
            if b"final" in fields:
                yield sse_event("done", fields[b"final"].decode(), int(fields[b"seq"]))
                return
            start = int(fields[b"start"])
            items = [tuple(item) for item in json.loads(fields[b"items"])]
            new = items[max(0, after - start + 1) :]
            after = start + len(items) - 1
            for frame in delta_frames(new, after):
                yield frame


async def has_stream(generation_id: int) -> bool:
    return bool(await get_redis().exists(stream_key(generation_id)))


async def request_cancel(generation_id: int) -> int:
    """Ask whichever process runs the generation to stop it; returns how many listened."""
    return await get_redis().publish(CANCEL_CHANNEL, str(generation_id))


async def listen_for_cancels(cancel: Callable[[int], bool]) -> None:
    """Run in every runner process: stop local generations that any worker was asked to stop."""
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(CANCEL_CHANNEL)
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                cancel(int(message["data"]))
    finally:
        await pubsub.aclose()
