"""Admission: at most so many runs at once per worker; the rest wait in order, told their
place in line; a cancelled one leaves the line (or gives back the slot it was just given)."""

import asyncio

import pytest

from studio.streams import Admission
from studio.streams.events import EventLog, Queued
from studio.streams.framing import delta_frames


def _admission(limit: int) -> tuple[Admission, list[int]]:
    depths: list[int] = []
    return Admission(lambda: limit, on_depth=depths.append), depths


async def _waiter(slots: Admission, told: list[int]) -> float:
    return await slots.wait(told.append)


async def test_under_the_limit_a_run_enters_at_once_and_beyond_it_waits():
    slots, depths = _admission(2)

    assert slots.enter() and slots.enter()
    assert not slots.enter()  # the third waits
    assert slots.running == 2 and depths == [0]  # nobody waits in this loop's line


async def test_the_line_moves_in_order_and_each_is_told_its_place_as_it_moves():
    slots, depths = _admission(1)
    assert slots.enter()
    told = {name: [] for name in "abc"}
    waiting = {name: asyncio.create_task(_waiter(slots, told[name])) for name in "abc"}
    await asyncio.sleep(0)
    assert {name: places[-1] for name, places in told.items()} == {"a": 1, "b": 2, "c": 3}
    assert depths[-1] == 3
    assert not slots.enter()  # nobody jumps the line, even with a slot about to be free

    slots.leave()  # the running one ends: "a" goes
    await asyncio.wait_for(waiting["a"], 1)
    await asyncio.sleep(0)  # the announcement, once per turn of the loop
    assert told == {"a": [1], "b": [2, 1], "c": [3, 2]}
    assert not waiting["b"].done() and depths[-1] == 2

    slots.leave()
    slots.leave()
    await asyncio.wait_for(asyncio.gather(waiting["b"], waiting["c"]), 1)
    assert slots.running == 1 and depths[-1] == 0
    assert waiting["c"].result() >= 0  # the seconds it waited


async def test_far_back_in_a_long_line_only_a_tenth_of_a_move_is_told():
    """Each place told is a log item: a run behind 1,000 is told about 80 times, the last
    ten places exactly."""
    slots, _ = _admission(1)
    assert slots.enter()
    told: list[int] = []
    waiting = [asyncio.create_task(_waiter(slots, [])) for _ in range(999)]
    last = asyncio.create_task(_waiter(slots, told))
    await asyncio.sleep(0)
    for _ in range(1000):
        slots.leave()
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*waiting, last), 5)

    assert told[0] == 1000 and told[-10:] == list(range(10, 0, -1))
    assert len(told) < 90
    assert all(later < earlier for earlier, later in zip(told, told[1:], strict=False))


async def test_a_run_cancelled_in_line_leaves_it_and_those_behind_move_up():
    slots, depths = _admission(1)
    assert slots.enter()
    told_b, told_c = [], []
    b = asyncio.create_task(_waiter(slots, told_b))
    c = asyncio.create_task(_waiter(slots, told_c))
    await asyncio.sleep(0)

    b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b
    await asyncio.sleep(0)

    assert told_c == [2, 1] and depths[-1] == 1 and slots.running == 1
    slots.leave()
    await asyncio.wait_for(c, 1)
    assert slots.running == 1


async def test_a_run_cancelled_as_its_slot_came_gives_the_slot_to_the_next():
    slots, _ = _admission(1)
    assert slots.enter()
    b = asyncio.create_task(_waiter(slots, []))
    c = asyncio.create_task(_waiter(slots, []))
    await asyncio.sleep(0)

    slots.leave()  # b's slot is given...
    b.cancel()  # ...and b is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await b

    await asyncio.wait_for(c, 1)  # the slot went on to c
    assert slots.running == 1


async def test_no_limit_lets_every_run_in():
    slots, _ = _admission(0)

    assert all(slots.enter() for _ in range(1000))


async def test_a_new_event_loop_starts_with_no_runs():
    """A worker has one loop; each test has its own, and a closed one's runs are gone."""
    slots, _ = _admission(1)
    slots.running, slots._loop = 1, object()  # left by another loop

    assert slots.enter()


def test_a_place_in_line_is_a_log_item_and_one_frame_with_the_latest():
    log = EventLog(1)
    log.append("content", "Prefix ")
    for ahead in (3, 2, 1):
        log.add(Queued(ahead))

    frames = delta_frames(log.items, len(log.items))

    assert log.items[1:] == [("queued", "3"), ("queued", "2"), ("queued", "1")]
    assert frames[1] == b"id: 4\nevent: queued\ndata: 1\n\n"
    # A page shows no queue itself: its snapshot ends before the place in line, so its
    # watcher's first frame says where it stands.
    so_far = log.snapshot()
    assert (so_far.content, so_far.seq) == ("Prefix ", 3)
    log.add(Queued(0))
    log.append("content", "text")
    assert log.snapshot().seq == 6 and log.snapshot().content == "Prefix text"
