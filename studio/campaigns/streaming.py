"""The campaign board's one stream: every deliverable's generation over ONE SSE connection.

Each generation's frames come from the engine as for a draft's own watcher
(``drafts.views.generations.source``: this worker's log, the Redis relay, or only its end);
``multiplex`` merges them as they come and names each frame after its deliverable
(``delta-<deliverable>``, ``done-<deliverable>``, and ``queued-<deliverable>`` with its place
in line while its worker has no slot for it yet), so each panel on the board swaps in its own.
The rendered Markdown blocks and the reasoning are left out: the board shows the plain text
as it streams (every character is in the deltas), then the deliverable's final panel.

An SSE connection has one Last-Event-ID, so a frame's id is the **cursor** of the whole
board: each followed generation with the sequence number its last frame carried, or ``x``
once its end was sent (``41:118.42:x``). A reconnect resumes every generation exactly after
what it received; one the cursor does not hold (a generation started since) from its start.
Once every generation has ended, an ``end`` frame closes the connection (``sse-close``).

One generation's source failing (it raises, or stops without its end) ends only that
deliverable's panel: its ``done-<deliverable>`` goes out at once, rendered from what the
database holds (``render`` gets no ``Done``), while the others stream on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from studio.streams import HEARTBEAT, Done, sse_event

logger = logging.getLogger(__name__)

# Up to 200 generations of ``id:seq`` (or ``id:x``, ended), joined by dots.
_PAIR = r"[0-9]{1,19}:(?:[0-9]{1,19}|x)"
_CURSOR = re.compile(rf"{_PAIR}(?:\.{_PAIR}){{0,199}}")
_MAX = 2**63 - 1
ENDED = None  # a cursor's value for a generation whose end was sent

Cursor = dict[int, int | None]


def parse_cursor(raw: str | None) -> Cursor:
    """The cursor of a reconnect (Last-Event-ID) or a page (``?after=``). One that is not a
    cursor replays every generation from its start rather than failing."""
    if raw is None or not _CURSOR.fullmatch(raw):
        return {}
    cursor: Cursor = {}
    for pair in raw.split("."):
        key, _, seq = pair.partition(":")
        if int(key) > _MAX or (seq != "x" and int(seq) > _MAX):
            return {}
        cursor[int(key)] = ENDED if seq == "x" else int(seq)
    return cursor


def format_cursor(cursor: Mapping[int, int | None]) -> str:
    return ".".join(f"{key}:{'x' if seq is None else seq}" for key, seq in sorted(cursor.items()))


def _parts(frame: bytes) -> tuple[str, int, list[str]]:
    """A delta frame's event, sequence number and data lines (``framing.sse_event``)."""
    event, seq, data = "", 0, []
    for line in frame.decode().rstrip("\n").split("\n"):
        name, _, value = line.partition(": ")
        if name == "id":
            seq = int(value)
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return event, seq, data


def _frame(event: str, data: str, cursor: Cursor) -> bytes:
    return f"id: {format_cursor(cursor)}\n".encode() + sse_event(event, data)


async def multiplex(
    sources: Mapping[int, tuple[int, AsyncIterator[bytes | Done]]],
    cursor: Cursor,
    render: Callable[[int, Done | None], Awaitable[str]],
    *,
    heartbeat: float,
) -> AsyncIterator[bytes]:
    """The frames of every source (generation id → its deliverable and its frames) as they
    come, named after their deliverable and carrying the board's cursor; each ``Done`` as
    its deliverable's final panel (``render``, once, for this viewer); a source that fails
    or ends without its ``Done`` gets its final panel all the same (``render`` with None);
    then ``end``."""
    queue: asyncio.Queue[tuple[int, bytes | Done | None]] = asyncio.Queue()

    async def pump(key: int, source: AsyncIterator[bytes | Done]) -> None:
        try:
            async for item in source:
                await queue.put((key, item))
        except Exception:  # one generation's source: the others stream on
            logger.exception("The board lost the stream of generation %s", key)
        finally:
            await queue.put((key, None))

    cursor = dict(cursor)
    pumps = [asyncio.create_task(pump(key, source)) for key, (_, source) in sources.items()]
    running, beat = len(pumps), time.monotonic()
    try:
        while running:
            key, item = await queue.get()
            deliverable = sources[key][0]
            if item is None:
                running -= 1
                if cursor.get(key, 0) is not ENDED:  # it ended without its Done
                    cursor[key] = ENDED
                    yield _frame(f"done-{deliverable}", await render(deliverable, None), cursor)
            elif isinstance(item, Done):
                cursor[key] = ENDED
                yield _frame(f"done-{deliverable}", await render(deliverable, item), cursor)
            elif item == HEARTBEAT:
                if time.monotonic() - beat >= heartbeat:  # one per quiet spell, not one per source
                    beat = time.monotonic()
                    yield HEARTBEAT
            else:
                event, seq, data = _parts(item)
                cursor[key] = max(seq, cursor.get(key) or 0)
                if event in ("delta", "queued"):  # the text, or its place in line
                    beat = time.monotonic()
                    yield _frame(f"{event}-{deliverable}", "\n".join(data), cursor)
        yield _frame("end", "", cursor)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
