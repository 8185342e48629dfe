"""One writer per worker for the text so far of every running stream.

It saves, in one call (one transaction), the text of every stream that changed, at most
GENERATION_PERSIST_INTERVAL apart, sooner when one has GENERATION_PERSIST_BYTES unsaved: the
stream is never held up by the database, and a crash loses at most that much of any text.
What saving means belongs to the owner (``save``); this module knows only ids and texts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)

Texts = tuple[str, str]  # (content, reasoning)


class Unsaved(Protocol):
    def texts(self) -> Texts: ...


class PartialWriter:
    def __init__(
        self,
        save: Callable[[dict[int, Texts]], None],
        start: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        self.save = save
        self.dirty: dict[int, Unsaved] = {}
        self.wake = asyncio.Event()
        self.task = start(self.run())

    def mark(self, key: int, stream: Unsaved, *, urgent: bool) -> None:
        self.dirty[key] = stream
        if urgent:
            self.wake.set()

    def forget(self, key: int) -> None:
        self.dirty.pop(key, None)

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(settings.GENERATION_PERSIST_INTERVAL):
                    await self.wake.wait()
            except TimeoutError:
                pass
            self.wake.clear()
            if not self.dirty:
                continue
            batch = {key: stream.texts() for key, stream in self.dirty.items()}
            self.dirty.clear()
            try:
                await sync_to_async(self.save)(batch)
            except Exception:
                logger.exception("Could not save the text so far of %s streams", len(batch))


class PartialWriters:
    """The writer of each event loop (a worker has one; tests start several)."""

    def __init__(
        self,
        save: Callable[[dict[int, Texts]], None],
        start: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        self.save, self.start = save, start
        self._writers: dict[asyncio.AbstractEventLoop, PartialWriter] = {}

    def current(self) -> PartialWriter:
        loop = asyncio.get_running_loop()
        writer = self._writers.get(loop)
        if writer is None or writer.task.done():
            for old in [other for other in self._writers if other.is_closed()]:
                del self._writers[old]
            writer = self._writers[loop] = PartialWriter(self.save, self.start)
        return writer
