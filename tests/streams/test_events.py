"""The event log: typed ends with no HTML; pacing, each token at once while the process is
quiet, batches as it gets busy."""

import asyncio
import contextlib
import sys
import tracemalloc

import pytest

from studio.streams import events
from studio.streams.events import (
    Block,
    Delta,
    Done,
    EventLog,
    Growing,
    GrowingText,
    Pacing,
    Queued,
    Reasoning,
    Sealed,
    Snapshot,
    follow,
    watchers,
)


def test_the_wait_grows_with_open_streams_up_to_the_ceiling():
    pacing = Pacing()
    assert pacing.interval(ceiling=0.05, rate=10_000) == 0  # nothing open: no wait
    with pacing.counting():
        assert pacing.interval(ceiling=0.05, rate=10_000) == pytest.approx(0.0001)
        with contextlib.ExitStack() as stack:
            for _ in range(99):
                stack.enter_context(pacing.counting())
            assert pacing.interval(ceiling=0.05, rate=10_000) == pytest.approx(0.01)
            for _ in range(900):
                stack.enter_context(pacing.counting())
            assert pacing.interval(ceiling=0.05, rate=10_000) == 0.05  # capped
        assert pacing.interval(ceiling=0.05, rate=0) == 0.05  # no rate: always the ceiling
    assert pacing.open == 0


async def frames_of(log: EventLog, **pace) -> tuple[asyncio.Queue, asyncio.Task]:
    frames: asyncio.Queue[bytes] = asyncio.Queue()

    async def watch() -> None:
        async for frame in follow(log, after=0, heartbeat=60, **pace):
            await frames.put(frame)

    return frames, asyncio.create_task(watch())


@pytest.mark.asyncio
async def test_a_quiet_process_sends_each_token_as_it_arrives():
    log = EventLog(1)
    # A ceiling of a minute: had the stream waited it, the second frame would time out.
    frames, task = await frames_of(log, batch=60, rate=1_000_000)
    async with asyncio.timeout(5):
        log.append("content", "Bright")
        assert (await frames.get()).endswith(b"data: Bright\n\n")
        log.append("content", " light")
        assert (await frames.get()).endswith(b"data:  light\n\n")
        log.finish(Done("done", {"generation": 1}))
        assert await frames.get() == Done("done", {"generation": 1}, seq=2)
        await task
    assert watchers.open == 0


@pytest.mark.asyncio
async def test_a_busy_process_batches_what_arrives_during_the_wait():
    log = EventLog(2)
    with contextlib.ExitStack() as busy:
        for _ in range(500):  # other streams open in this process
            busy.enter_context(watchers.counting())
        frames, task = await frames_of(log, batch=0.2, rate=1000)  # a 0.2 s wait now
        async with asyncio.timeout(5):
            log.append("content", "Bright")
            await frames.get()
            log.append("content", " light")  # both arrive while the stream waits
            log.append("content", " late")
            assert (await frames.get()) == b"id: 3\nevent: delta\ndata:  light late\n\n"
            log.finish(Done("done"))
            await task


@pytest.mark.asyncio
async def test_a_token_that_comes_after_the_wait_goes_at_once_without_a_timer(monkeypatch):
    """Busy (a wait between batches) but slow (each token after the wait is over): the
    stream sends each token as it comes, with no sleep of its own in between."""
    loop, log, slept = asyncio.get_running_loop(), EventLog(5), []
    real_time, real_sleep, later, watching = loop.time, asyncio.sleep, [0.0], set()
    monkeypatch.setattr(loop, "time", lambda: real_time() + later[0])

    async def sleep(delay, *args, **kwargs):
        if asyncio.current_task() in watching:  # not another test's leftover in this process
            slept.append(delay)
        return await real_sleep(delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    with contextlib.ExitStack() as busy:
        for _ in range(500):
            busy.enter_context(watchers.counting())
        frames, task = await frames_of(log, batch=30, rate=1000)  # a 0.5 s wait now
        watching.add(task)
        async with asyncio.timeout(5):
            log.append("content", "Bright")
            assert (await frames.get()).endswith(b"data: Bright\n\n")
            later[0] = 1.0  # the wait is over by the time the next token comes
            log.append("content", " light")
            assert (await frames.get()).endswith(b"data:  light\n\n")
            log.finish(Done("done"))
            await task
    assert slept == []


@pytest.mark.asyncio
async def test_a_wait_that_times_out_or_is_cancelled_leaves_no_waiter_behind():
    log = EventLog(6)
    assert await log.wait(0, timeout=0.01) is False  # a heartbeat's quiet spell
    waiting = asyncio.create_task(log.wait(0, timeout=60))
    await asyncio.sleep(0)  # it waits
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert log._waiters == []
    woken = asyncio.create_task(log.wait(0, timeout=60))
    await asyncio.sleep(0)
    log.append("content", "x")
    assert await woken is True
    assert log._waiters == []


def test_a_log_ends_with_a_status_and_ids_never_html():
    log = EventLog(3)
    log.add(Reasoning("Think"))
    log.add(Delta("<b>bold</b>"))
    assert log.snapshot() == Snapshot("<b>bold</b>", "Think", 2, "", "<b>bold</b>")

    log.finish(Done("done", {"generation": 3, "draft": 9}))

    assert log.done == Done("done", {"generation": 3, "draft": 9}, seq=2)
    assert log.snapshot() is None  # ended: a page load shows the saved version instead
    assert log.done.as_json() == {"status": "done", "ids": {"generation": 3, "draft": 9}}
    assert Done.from_json(log.done.as_json(), 2) == log.done
    assert set(vars(type(log.done))["__dataclass_fields__"]) == {"status", "ids", "seq"}


def test_an_ended_log_keeps_its_items_sealed_and_takes_no_more():
    log = EventLog(6)
    items = [
        ("queued", "2"),
        ("queued", "0"),
        ("reasoning", "思考"),
        ("content", "你好，"),
        ("block", "3\n<p>你好，</p>"),
        ("content", ""),
        ("content", "world\r\n"),
    ]
    for kind, text in items:
        log.append(kind, text)

    log.finish(Done("done", {"generation": 6}))

    assert isinstance(log.items, Sealed)
    assert log.items == items and items == log.items  # read as the list was, both ways
    assert len(log.items) == 7 and list(log.items) == items
    assert log.items[3] == ("content", "你好，") and log.items[-1] == ("content", "world\r\n")
    assert log.items[5] == ("content", "")  # an empty text keeps its place (and its seq)
    assert log.items[4:] == items[4:] and log.items[:2] == items[:2] and log.items[9:] == []
    assert log.items != items[:-1] and log.items != "not a log"
    with pytest.raises(IndexError):
        log.items[7]
    with pytest.raises(RuntimeError):
        log.add(Queued(1))  # nothing is added to a log once it has ended
    log.finish(Done("done", {"generation": 6}))  # said twice: still the same items
    assert log.items == items and log.done.seq == 7


def _held_by(make) -> tuple[object, int]:
    """What ``make()`` returns and the bytes allocated while it ran, in this file and in the
    event log's module, still held (other threads' allocations meanwhile do not count)."""
    here = tracemalloc.Filter(True, __file__), tracemalloc.Filter(True, events.__file__)
    tracemalloc.start()
    try:
        made = make()
        held = tracemalloc.take_snapshot().filter_traces(here)
        return made, sum(stat.size for stat in held.statistics("filename"))
    finally:
        tracemalloc.stop()


def _answer(log: EventLog, tokens: int) -> EventLog:
    for i in range(tokens):
        log.add(Delta(f"word{i} "))  # each token a string of its own, as parsed
    return log


def test_a_log_keeps_a_long_answer_in_a_few_bytes_a_token_while_open_and_once_sealed():
    """As (kind, text) pairs, 2000 tokens of about 9 characters cost a tuple and a string
    each: about 120 bytes a token. An open log seals every run of 64, a finished one all:
    the characters and a few bytes a token stay."""
    pair = ("content", "word1000 ")
    as_pairs = 2000 * (sys.getsizeof(pair) + sys.getsizeof(pair[1]) + 8)  # and a list slot
    log, open_log = _held_by(lambda: _answer(EventLog(7), 2000))
    assert isinstance(log.items, Growing)
    assert open_log < 2000 * 24 < as_pairs / 4

    sealed = _held_by(lambda: log.finish(Done("done")))[1]  # the sealed items, the runs gone
    assert isinstance(log.items, Sealed) and sealed < 2000 * 16
    assert list(log.items) == [("content", f"word{i} ") for i in range(2000)]


def test_a_growing_log_reads_as_the_list_of_its_items():
    items = [("queued", "1"), *((("content", f"t{i}")) for i in range(150)), ("reasoning", "r")]
    grown = Growing(items)
    assert len(grown) == len(items) and list(grown) == items and grown == items
    assert grown[0] == items[0] and grown[-1] == items[-1] and grown[64] == items[64]
    assert grown[60:70] == items[60:70] and grown[140:] == items[140:] and grown[200:] == []
    assert grown[-3:] == items[-3:] and grown[128:] == items[128:] and grown[:2] == items[:2]
    with pytest.raises(IndexError):
        grown[len(items)]


def test_growing_text_is_the_text_so_far_in_a_few_strings():
    text = GrowingText("Prefix. ")
    assert text and not GrowingText()
    pieces = [f"{i} " for i in range(200)]
    for piece in pieces:
        text.append(piece)
    assert str(text) == "Prefix. " + "".join(pieces)
    assert len(text._joined) == 3 and len(text._recent) == 201 - 3 * Growing.RUN


@pytest.mark.asyncio
async def test_follow_replays_after_a_sequence_number_then_the_end():
    log = EventLog(4)
    for piece in ["one ", "two ", "<three>"]:
        log.add(Delta(piece))
    log.finish(Done("cancelled", {"generation": 4}))

    got = [item async for item in follow(log, after=1, batch=0, rate=0, heartbeat=1)]

    assert got == [
        b"id: 3\nevent: delta\ndata: two &lt;three&gt;\n\n",
        Done("cancelled", {"generation": 4}, seq=3),
    ]


@pytest.mark.asyncio
async def test_a_quiet_log_sends_heartbeat_comments():
    log = EventLog(5)
    stream = follow(log, after=0, batch=0, rate=0, heartbeat=0.01)

    assert await anext(stream) == b": heartbeat\n\n"
    log.finish(Done("done"))
    assert await anext(stream) == Done("done", seq=0)
    await stream.aclose()


def test_a_snapshot_holds_the_blocks_so_far_and_the_open_text_after_them():
    log = EventLog(5)
    log.add(Delta("# 标题\n\nSome "))
    log.add(Block("<h1>标题</h1>\n", 6))
    log.add(Delta("text"))
    snapshot = log.snapshot()
    assert snapshot == Snapshot("# 标题\n\nSome text", "", 3, "<h1>标题</h1>\n", "Some text")


@pytest.mark.asyncio
async def test_blocks_go_out_as_they_are_after_the_text_they_stand_for_once():
    log = EventLog(6)
    log.add(Delta("# A\n\n<b>"))
    log.add(Block("<h1>A</h1>\n", 5))
    log.add(Delta("x\n\n"))
    log.add(Block("<p>&lt;b&gt;x</p>\n", 6))
    log.finish(Done("done"))

    everything = [item async for item in follow(log, after=0, batch=0, rate=0, heartbeat=1)]
    resumed = [item async for item in follow(log, after=2, batch=0, rate=0, heartbeat=1)]

    assert everything == [  # in the items' order, each frame with its own last item's id
        b"id: 1\nevent: delta\ndata: # A\ndata: \ndata: &lt;b&gt;\n\n",
        b"id: 2\nevent: block\ndata: 5\ndata: <h1>A</h1>\ndata: \n\n",
        b"id: 3\nevent: delta\ndata: x\ndata: \ndata: \n\n",
        b"id: 4\nevent: block\ndata: 6\ndata: <p>&lt;b&gt;x</p>\ndata: \n\n",
        Done("done", seq=4),
    ]
    assert resumed == everything[2:]  # after the first block: only what came after it


async def test_a_connection_cut_between_any_two_frames_resumes_without_repeating_text():
    """A batch of text and blocks is several frames: each says where it ends, so a reconnect
    with the last id received repeats no text and skips no block (the fault suite's
    stop-and-reconnect tests found a batch's text sent again when only its last frame had
    an id)."""
    log = EventLog(7)
    for item in (Delta("## T\n\nOne "), Block("<h2>T</h2>\n", 6), Delta("two\n\n- a")):
        log.add(item)
    log.add(Block("<p>One two</p>\n", 9))
    log.finish(Done("done"))
    everything = [item async for item in follow(log, after=0, batch=0, rate=0, heartbeat=1)]
    for cut in range(1, len(everything)):
        received = everything[:cut]
        last_id = int(received[-1].split(b"\n")[0].removeprefix(b"id: "))
        rest = [item async for item in follow(log, after=last_id, batch=0, rate=0, heartbeat=1)]
        assert received + rest == everything
