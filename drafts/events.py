"""Per-generation event logs: what the runner produced, numbered, for any number of watchers.

The runner appends deltas; SSE views replay from a sequence number (the browser's
Last-Event-ID) and then follow, so a reconnect never shows a chunk twice or skips one.
This log lives in the runner's process; with Redis configured, ``drafts.relay`` mirrors it
into a Redis stream so that watchers in any worker can follow it too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from django.utils.html import escape


@dataclass(eq=False)
class GenerationLog:
    generation_id: int
    # (kind, text) with kind "content" or "reasoning"; an item's sequence number is index + 1.
    items: list[tuple[str, str]] = field(default_factory=list)
    # The final event's HTML once the generation has ended.
    final_html: str | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, kind: str, text: str) -> None:
        self.items.append((kind, text))
        self._wake()

    def finish(self, html: str) -> None:
        self.final_html = html
        self._wake()

    def _wake(self) -> None:
        # Waiters hold the old event; replacing it gives the next wait a fresh one.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until there is something after ``seen`` or the end; False on timeout."""
        if len(self.items) > seen or self.final_html is not None:
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        except TimeoutError:
            return False
        return True


_logs: dict[int, GenerationLog] = {}


def open_log(generation_id: int) -> GenerationLog:
    log = _logs[generation_id] = GenerationLog(generation_id)
    return log


def get_log(generation_id: int) -> GenerationLog | None:
    return _logs.get(generation_id)


def discard_log(generation_id: int) -> None:
    _logs.pop(generation_id, None)


def sse_event(event: str, data: str, event_id: int | None = None) -> bytes:
    """One SSE frame; multi-line data becomes several ``data:`` lines, as the spec requires."""
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    normalized = data.replace("\r\n", "\n").replace("\r", "\n")
    lines.extend(f"data: {line}" for line in normalized.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def delta_frames(new: list[tuple[str, str]], seq: int) -> list[bytes]:
    """The SSE frames for a batch of items ending at sequence number ``seq``.

    Only new, HTML-escaped text is sent: the browser appends it, so the cost per frame does
    not grow with the draft. Only the batch's last frame carries the id, so a reconnect
    resumes after all of it.
    """
    reasoning = "".join(text for kind, text in new if kind == "reasoning")
    content = "".join(text for kind, text in new if kind == "content")
    frames = []
    if reasoning:
        frames.append(sse_event("reasoning", escape(reasoning), None if content else seq))
    if content:
        frames.append(sse_event("delta", escape(content), seq))
    return frames


@dataclass
class Pacing:
    """How long a stream waits after sending a batch before it sends the next one.

    Each batch costs this process a send and the browser a swap. While few streams are open
    that is cheap, so every token goes out the moment it arrives. As more streams open, the
    wait grows with their number (``open / rate``) up to ``ceiling``, so that a busy process
    sends about ``rate`` batches a second in all, however many streams it serves; what
    arrives during a wait goes out together in the next batch.
    """

    open: int = 0

    def interval(self, *, ceiling: float, rate: float) -> float:
        return ceiling if rate <= 0 else min(ceiling, self.open / rate)

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self.open += 1
        try:
            yield
        finally:
            self.open -= 1


# The SSE streams this process is following (each watcher of each generation).
watchers = Pacing()


async def follow(
    log: GenerationLog, *, after: int, batch: float, rate: float, heartbeat: float
) -> AsyncIterator[bytes]:
    """SSE frames for everything in ``log`` after sequence ``after``, then live, until done.

    Deltas go out as they arrive while the process is quiet, and are batched as it gets
    busy (``Pacing``: at most ``batch`` seconds, about ``rate`` batches a second in all);
    the final ``done`` frame carries the rendered draft once.
    """
    seen = after
    with watchers.counting():
        while True:
            if len(log.items) > seen:
                new, seen = log.items[seen:], len(log.items)
                for frame in delta_frames(new, seen):
                    yield frame
                await asyncio.sleep(watchers.interval(ceiling=batch, rate=rate))
            elif log.final_html is not None:
                yield sse_event("done", log.final_html, seen)
                return
            elif not await log.wait(seen, heartbeat):
                yield HEARTBEAT


HEARTBEAT = b": heartbeat\n\n"
