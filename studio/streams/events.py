"""Typed stream events and the seq-numbered event log that any number of watchers follow.

A runner appends text deltas (``content`` or ``reasoning``) to its log and ends it with one
``Done``: a status and a small payload of ids, never HTML. A runner may also append
``Block``s: a finished part of the answer as its owner rendered and sanitized it, sent once,
as is (the drafts runner's Markdown blocks: docs/decisions/0013). A run that waits for a
slot in its worker (``admission``) logs its place in line as ``Queued`` items first. SSE
views replay the log from a sequence number (the browser's Last-Event-ID) and then follow it,
so a reconnect never shows a chunk twice or skips one; each view renders the end for its own
viewer (``sse.frames``). The log lives in the runner's process; with Redis configured,
``studio.streams.relay`` mirrors it into a Redis stream so that watchers in any worker can
follow it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from array import array
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from .framing import HEARTBEAT, delta_frames

Kind = Literal["content", "reasoning", "block", "queued"]


@dataclass(frozen=True, slots=True)
class Delta:
    """Answer text, in order."""

    text: str
    kind: Kind = "content"


@dataclass(frozen=True, slots=True)
class Reasoning:
    """The model's reasoning text, in order (thinking models)."""

    text: str
    kind: Kind = "reasoning"


@dataclass(frozen=True, slots=True)
class Block:
    """A finished part of the answer, as HTML its owner rendered *and sanitized* (the engine
    sends it as is), standing for the next ``length`` characters of the answer's text: the
    browser shows it in place of those characters, which it has had as deltas already."""

    html: str
    length: int
    kind: Kind = "block"

    @property
    def text(self) -> str:
        """Its form in the log (and in the Redis relay) and as the data of its SSE frame."""
        return f"{self.length}\n{self.html}"

    @classmethod
    def parse(cls, text: str) -> Block:
        length, _, html = text.partition("\n")
        return cls(html, int(length))


@dataclass(frozen=True, slots=True)
class Queued:
    """Waiting for a slot in its worker (``studio.streams.admission``): ``ahead`` runs start
    before it (1: it is next), told again as the line moves; 0 once its turn has come (it
    starts). Watchers show "Queued (n ahead)" until the 0."""

    ahead: int
    kind: Kind = "queued"

    @property
    def text(self) -> str:
        return str(self.ahead)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream so far, for a page that shows it and then follows it from ``seq``: the
    answer's finished blocks (HTML) and its open text after them, and the reasoning."""

    content: str
    reasoning: str
    seq: int
    blocks: str = ""  # the ``Block``s' HTML, in order
    tail: str = ""  # the answer's text after them


@dataclass(frozen=True, slots=True)
class Done:
    """The end of a stream: how it ended and which rows hold the result (ids, no HTML).

    ``seq`` is the sequence number it follows (the SSE id a reconnect resumes after); None
    when it is sent without one (a stream only settled, never followed).
    """

    status: str
    ids: Mapping[str, int] = field(default_factory=dict)
    seq: int | None = None

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "ids": dict(self.ids)}

    @classmethod
    def from_json(cls, data: Mapping[str, object], seq: int | None = None) -> Done:
        ids = data.get("ids") or {}
        return cls(str(data.get("status", "")), {str(k): int(v) for k, v in ids.items()}, seq)


_CODES = {"content": "c", "reasoning": "r", "block": "b", "queued": "q"}
_KINDS = {code: kind for kind, code in _CODES.items()}


class _Items(Sequence[tuple[str, str]]):
    """Log items read as ``(kind, text)`` pairs, by index and slice, however they are kept."""

    __slots__ = ()

    def _item(self, index: int) -> tuple[str, str]:
        raise NotImplementedError

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("log item out of range")
        return self._item(index)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class Sealed(_Items):
    """Items kept in three parts: one string of all the texts, where each ends, and a letter
    per kind. As pairs, each token costs a tuple and a string of its own (about 120 bytes for
    a token of a few characters); sealed, its characters and five bytes.

    A finished log is sealed whole: it stays a while for late reconnects
    (``registry.FINISHED_LOG_TTL``), and a worker holds every log that ended in that time. An
    open log seals its items in runs as they come (``Growing``)."""

    __slots__ = ("_ends", "_kinds", "_text")

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        kinds, texts = [], []
        for kind, text in items:
            kinds.append(_CODES[kind])
            texts.append(text)
        self._kinds = "".join(kinds)
        self._text = "".join(texts)
        self._ends = array("I", itertools.accumulate(map(len, texts)))

    def __len__(self) -> int:
        return len(self._kinds)

    def _item(self, index: int) -> tuple[str, str]:
        start = self._ends[index - 1] if index else 0
        return _KINDS[self._kinds[index]], self._text[start : self._ends[index]]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return map(self._item, range(len(self)))


class Growing(_Items):
    """An open log's items: the latest as pairs, every full run of ``RUN`` before them
    ``Sealed``. While an answer streams, what its log holds grows by the answer's characters
    and a few bytes a token, not by a tuple and a string per token."""

    __slots__ = ("_recent", "_runs")
    RUN = 64

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._runs: list[Sealed] = []
        self._recent: list[tuple[str, str]] = []
        for item in items:
            self.append(item)

    def append(self, item: tuple[str, str]) -> None:
        self._recent.append(item)
        if len(self._recent) == self.RUN:
            self._runs.append(Sealed(self._recent))
            self._recent = []

    def __len__(self) -> int:
        return len(self._runs) * self.RUN + len(self._recent)

    def __getitem__(self, index):  # type: ignore[override]
        # A watcher that keeps up reads only what came since its last look, the recent pairs
        # as they are.
        if type(index) is slice and index.stop is None and index.step is None:
            after = (index.start or 0) - len(self._runs) * self.RUN
            if after >= 0:
                return self._recent[after:]
        return super().__getitem__(index)

    def _item(self, index: int) -> tuple[str, str]:
        run, at = divmod(index, self.RUN)
        return self._runs[run]._item(at) if run < len(self._runs) else self._recent[at]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for run in self._runs:
            yield from run
        yield from self._recent


class GrowingText:
    """Text that grows by small pieces (an answer's tokens), kept as a few strings: every
    run of ``Growing.RUN`` pieces is joined into one, so a piece's string object does not
    outlive its run. ``str()`` is the text so far."""

    __slots__ = ("_joined", "_recent")

    def __init__(self, first: str = "") -> None:
        self._joined: list[str] = []
        self._recent: list[str] = [first] if first else []

    def append(self, piece: str) -> None:
        self._recent.append(piece)
        if len(self._recent) == Growing.RUN:
            self._joined.append("".join(self._recent))
            self._recent = []

    def __bool__(self) -> bool:
        return bool(self._joined or self._recent)

    def __str__(self) -> str:
        return "".join(self._joined) + "".join(self._recent)


@dataclass(eq=False)
class EventLog:
    key: int  # the id of what it streams (a generation's, an assistant message's)
    # (kind, text), kind "content", "reasoning", "block" or "queued"; an item's sequence number
    # is index + 1. Once the log has ended, the same items ``Sealed``: nothing is added then.
    items: Growing | Sealed = field(default_factory=Growing)
    # How the stream ended, once it has.
    done: Done | None = None
    # A watcher in another worker follows its Redis mirror (``relay.publish``), which then
    # carries a batch every GENERATION_SSE_BATCH rather than one per GENERATION_MIRROR_INTERVAL.
    watched_elsewhere: bool = False
    # Who waits for the next item or the end: futures set at once, no Event made per item.
    _waiters: list[asyncio.Future[bool]] = field(default_factory=list)
    _attention: asyncio.Event = field(default_factory=asyncio.Event)  # watched, or ended

    def append(self, kind: str, text: str) -> None:
        if self.done is not None:
            raise RuntimeError(f"log {self.key} has ended")
        self.items.append((kind, text))  # type: ignore[union-attr]  # Growing until it ends
        self._wake()

    def add(self, event: Delta | Reasoning | Block | Queued) -> None:
        self.append(event.kind, event.text)

    def finish(self, done: Done) -> None:
        if isinstance(self.items, Growing):
            self.items = Sealed(self.items)
        self.done = replace(done, seq=len(self.items))
        self._wake()
        self._attention.set()

    def watch_elsewhere(self) -> None:
        """A watcher in another worker follows it: its mirror goes at the watchers' pace."""
        self.watched_elsewhere = True
        self._attention.set()

    async def until_watched_or_done(self, timeout: float) -> None:
        """Wait until a watcher elsewhere follows it, or it ends, or ``timeout`` passes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._attention.wait()

    def _wake(self) -> None:
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(True)

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until there is something after ``seen`` or the end; False on timeout.

        A bare future and one timer handle: this runs once per token for every watcher."""
        if len(self.items) > seen or self.done is not None:
            return True
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(timeout, _time_out, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            if waiter in self._waiters:  # timed out or cancelled: not woken
                self._waiters.remove(waiter)

    def snapshot(self) -> Snapshot | None:
        """The stream so far and the sequence number it ends at; None once ended.

        One whose last item is its place in line (``Queued``) ends before it: a page shows
        no queue of its own, its watcher's first frame says where it stands."""
        if self.done is not None:
            return None
        items = list(self.items)
        seq = len(items) - 1 if items and items[-1][0] == "queued" else len(items)
        content = "".join(text for kind, text in items if kind == "content")
        reasoning = "".join(text for kind, text in items if kind == "reasoning")
        blocks = [Block.parse(text) for kind, text in items if kind == "block"]
        shown = sum(block.length for block in blocks)
        html = "".join(block.html for block in blocks)
        return Snapshot(content, reasoning, seq, html, content[shown:])


def _time_out(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


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


# The SSE streams this process is following (each watcher of each stream).
watchers = Pacing()


async def until(ready: float) -> None:
    """Sleep until the loop's clock reads ``ready``; at once when it has: a batch waits only
    when it came sooner than its pace allows, so a slow stream wakes once per item."""
    if (early := ready - asyncio.get_running_loop().time()) > 0:
        await asyncio.sleep(early)


async def follow(
    log: EventLog, *, after: int, batch: float, rate: float, heartbeat: float
) -> AsyncIterator[bytes | Done]:
    """SSE frames for everything in ``log`` after sequence ``after``, then live; the ``Done``
    last, for the view to render for its viewer (``sse.frames``).

    Deltas go out as they arrive while the process is quiet, and are batched as it gets
    busy (``Pacing``: at most ``batch`` seconds, about ``rate`` batches a second in all).
    A batch waits only when its first item came sooner than the interval after the last
    one: a stream whose tokens come slower than that wakes once per token, not twice.
    """
    seen, clock = after, asyncio.get_running_loop().time
    ready = 0.0  # when the next batch may go
    with watchers.counting():
        while True:
            if len(log.items) > seen:
                await until(ready)  # what arrives meanwhile goes with it
                new, seen = log.items[seen:], len(log.items)
                for frame in delta_frames(new, seen):
                    yield frame
                ready = clock() + watchers.interval(ceiling=batch, rate=rate)
            elif log.done is not None:
                yield replace(log.done, seq=seen)
                return
            elif not await log.wait(seen, heartbeat):
                yield HEARTBEAT
