"""Admission: at most so many runs at once in this worker; the rest wait their turn in order.

A worker is one Python process, one core: past what that core sustains, every stream it runs
slows until the slowest time out (docs/benchmark.md). An ``Admission`` caps the runs going at
once; one launched beyond the cap waits in FIFO order for a slot instead, told its place in
line as it moves (``on_ahead``: how many must start before it, 1 for the next in line). A run
leaves the line at once when it is cancelled (a Stop, the worker shutting down).

Under the cap, entering is a counter check (``enter``): no await, nothing else on the way to
the first token. The state is per event loop (a worker's one loop; each test its own).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

OnAhead = Callable[[int], None]


# Places in line told exactly; further back, only a move of a tenth or more is told.
EXACT_PLACES = 10


class _Waiter:
    """Whom to tell a place in line, and what they were told last.

    Each telling is an item in the run's log (and its Redis stream), so far back in a long
    line only a move of a tenth is told (the place shown is then at most a tenth too high):
    a run that waits behind 1,000 is told about 80 times, not 1,000."""

    def __init__(self, on_ahead: OnAhead) -> None:
        self.on_ahead, self.told = on_ahead, 0

    def tell(self, ahead: int) -> None:
        if ahead == self.told:  # a line that moved behind it says nothing new
            return
        if self.told and ahead > EXACT_PLACES and ahead > self.told * 0.9:
            return
        self.told = ahead
        self.on_ahead(ahead)


class Admission:
    """The slots of one kind of run in this process. ``limit()`` is read at each check (a
    setting: 0 or less means no limit); ``on_depth`` hears how many wait after each change."""

    def __init__(self, limit: Callable[[], int], on_depth: Callable[[int], None] | None = None):
        self.limit = limit
        self.on_depth = on_depth
        self._loop: asyncio.AbstractEventLoop | None = None
        self.running = 0
        # Waiting, first in line first: each one's future (set when it gets its slot), whom
        # to tell its place in line, and the place it was last told.
        self.waiting: dict[asyncio.Future[None], _Waiter] = {}
        self._announcing = False

    def _for_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (a test's): the old one's runs are gone
            self._loop, self.running, self.waiting = loop, 0, {}
            self._depth()

    def _free(self) -> bool:
        limit = self.limit()
        return limit <= 0 or self.running < limit

    def enter(self) -> bool:
        """Take a slot if one is free and nobody waits for one (O(1)); False: ``wait``."""
        self._for_loop()
        if self.waiting or not self._free():
            return False
        self.running += 1
        return True

    async def wait(self, on_ahead: OnAhead) -> float:
        """Wait in line for a slot; the seconds waited. ``on_ahead`` hears the place in line
        at once and whenever it changes. Cancelled, it leaves the line (or gives back the slot
        it was just given) and the cancellation goes on."""
        self._for_loop()
        started = time.monotonic()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[turn] = waiter = _Waiter(on_ahead)
        waiter.tell(len(self.waiting))
        self._depth()
        self._admit()  # a slot may be free (the limit was raised): the first in line goes
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()  # its slot came with the cancellation: the next one's now
            elif self.waiting.pop(turn, None) is not None:
                self._changed()
            raise
        return time.monotonic() - started

    def leave(self) -> None:
        """A run ends: its slot goes to the first in line."""
        self._for_loop()
        self.running = max(0, self.running - 1)
        self._admit()

    def _admit(self) -> None:
        moved = False
        while self.waiting and self._free():
            turn = next(iter(self.waiting))
            del self.waiting[turn]
            moved = True
            if not turn.done():  # not one cancelled while it waited: that one just leaves
                self.running += 1
                turn.set_result(None)
        if moved:
            self._changed()

    def _changed(self) -> None:
        """The line moved: tell each waiting run its new place, once per turn of the loop
        however many moved at once (a burst of ends is one announcement, not one each)."""
        self._depth()
        if not self._announcing and self.waiting:
            self._announcing = True
            asyncio.get_running_loop().call_soon(self._announce)

    def _announce(self) -> None:
        self._announcing = False
        waiting = (waiter for turn, waiter in self.waiting.items() if not turn.done())
        for ahead, waiter in enumerate(waiting, start=1):
            waiter.tell(ahead)

    def _depth(self) -> None:
        if self.on_depth is not None:
            self.on_depth(len(self.waiting))
