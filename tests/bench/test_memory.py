"""Where memory grows (bench/memory.py): tracemalloc's growth by line, written at each new
high of a worker's traced memory."""

import gc
import inspect
import os
import sqlite3
import sys
import threading
import time
import tracemalloc

import pytest

from bench import memory

# The watch tests allocate until the report comes: a round each 10 ms for ROUNDS rounds, then
# one each half second. The watcher's first reading (a snapshot and a count of a big heap,
# late in the suite) may come after the fast rounds, and its report 2 MiB above it; a cap
# with no slow rounds never got there, and 30 s of fast rounds once ran out under load.
ROUNDS, DEADLINE = 256, 120


def _until_reported(report, hold) -> list:
    """What ``hold()`` made, round after round, until ``report`` exists (or DEADLINE)."""
    held, deadline = [], time.monotonic() + DEADLINE
    while not report.exists() and time.monotonic() < deadline:
        held.append(hold())
        time.sleep(0.01 if len(held) < ROUNDS else 0.5)
    return held


def _hold(count: int) -> list[bytearray]:
    return [bytearray(1024) for _ in range(count)]


# The line that allocates: where each report should say the memory went.
HOLD_LINE = f"tests/bench/test_memory.py:{inspect.getsourcelines(_hold)[1] + 1}"


@pytest.fixture
def tracing():
    tracemalloc.start(memory.FRAMES)
    yield
    tracemalloc.stop()


def _first(report: str) -> tuple[float, int, str]:
    kib, _, objects, where = report.splitlines()[0].split(maxsplit=3)
    return float(kib), int(objects), where


def test_growth_names_the_line_that_allocated_with_its_size_and_objects(tracing):
    before = tracemalloc.take_snapshot()
    held = _hold(2000)
    kib, objects, where = _first(memory.growth(before, tracemalloc.take_snapshot(), top=5))
    assert where == HOLD_LINE
    # Each bytearray is two allocations: the object and its bytes.
    assert 4000 <= objects <= 4010 and 2000 <= kib <= 2000 * 1.2
    assert len(held) == 2000


def test_watch_writes_the_growth_once_traced_memory_reaches_a_new_high(tmp_path, monkeypatch):
    """Allocations go on until a report is written: 2 MiB above the first snapshot, all of
    it from one line, which the report names first."""
    monkeypatch.setattr(memory, "SETTLE", 0.0)
    monkeypatch.setattr(memory, "EVERY", 0.01)
    monkeypatch.setattr(memory, "STEP", 2 * 2**20)
    stop = threading.Event()
    thread = memory.watch(tmp_path, stop)
    report = tmp_path / f"{os.getpid()}.txt"
    try:
        held = _until_reported(report, lambda: _hold(256))  # a quarter MiB a round
        text = report.read_text()
    finally:
        stop.set()
        thread.join()
        tracemalloc.stop()
    head, rest = text.split("\n", 1)
    kib, objects, where = _first(rest)
    assert head.startswith("traced ") and head.endswith(" MiB more")
    assert where == HOLD_LINE and kib >= 1024 and objects >= 1000
    assert not thread.is_alive() and held


class _Marker:
    pass


def test_type_growth_counts_the_live_objects_of_each_type_that_grew_and_their_sizes():
    before = memory.live_types()
    held = [_Marker() for _ in range(500)]
    grown = memory.type_growth(before, memory.live_types(), top=200)
    rows = {
        name: (float(kib), int(count)) for kib, _, count, name in map(str.split, grown.splitlines())
    }
    kib, count = rows[f"{__name__}._Marker"]
    assert count == 500 and kib == round(500 * sys.getsizeof(held[0]) / 1024, 1)


def test_untraced_watch_writes_the_live_objects_that_grew_once_resident_memory_has(
    tmp_path, monkeypatch
):
    """Without tracing (the worker at its measured pace): at a new high of resident memory,
    the types whose live objects grew, these markers among them."""
    monkeypatch.setattr(memory, "SETTLE", 0.0)
    monkeypatch.setattr(memory, "EVERY", 0.01)
    monkeypatch.setattr(memory, "STEP", 2 * 2**20)
    stop = threading.Event()
    thread = memory.watch(tmp_path, stop, traced=False)
    report = tmp_path / f"{os.getpid()}.txt"
    try:
        held = _until_reported(
            report, lambda: ([_Marker() for _ in range(1000)], bytearray(b"x" * 2**18))
        )
        text = report.read_text()
    finally:
        stop.set()
        thread.join()
    head, now, at_start, rest = text.split("\n", 3)
    assert head.startswith("resident ") and head.endswith(" MiB more")
    assert now.startswith("now: pymalloc ") and " MiB in arenas: " in now
    assert at_start.startswith("at start: pymalloc ")
    assert not tracemalloc.is_tracing() and held
    assert rest.startswith("live objects by type") and f"{__name__}._Marker" in rest


def test_allocators_say_where_small_and_large_objects_live():
    """Small objects in pymalloc's arenas, a large buffer from malloc: each shows in its own.
    Sizes well above what the process's other threads may allocate or free meanwhile; the
    cyclic collector runs first and is off while measuring (in CI a collection it started
    midway freed 12 MiB of earlier tests' garbage, more than the 9 MiB allocated)."""
    gc.collect()
    gc.disable()
    try:
        before = memory.allocators()
        small = [_Marker() for _ in range(200_000)]  # about 9 MiB of 48-byte objects
        large = bytearray(64 * 2**20)  # from malloc's heap or a mapping of its own
        after = memory.allocators()
    finally:
        gc.enable()
    assert after["pymalloc"]["in use"] - before["pymalloc"]["in use"] >= 0.8 * 200_000 * 48
    held = {
        when: got["malloc"]["in use"] + got["malloc"]["mapped"]
        for when, got in (("before", before), ("after", after))
    }
    assert held["after"] - held["before"] >= 0.8 * 64 * 2**20
    assert len(small) == 200_000 and len(large) == 64 * 2**20


def test_sqlite_s_own_memory_and_the_connections_are_in_the_report():
    """Each SQLite connection holds its schema, statements and pages in SQLite's own share of
    malloc (decision 63: a connection per request thread in a burst)."""
    before = memory.sqlite_memory()
    assert before is not None  # this Python's sqlite3 uses the system's libsqlite3.so.0
    databases = [sqlite3.connect(":memory:") for _ in range(4)]
    for database in databases:
        database.execute("CREATE TABLE t (text TEXT)")
        database.executemany("INSERT INTO t VALUES (?)", [("x" * 200,)] * 2000)

    grown = memory.sqlite_memory() - before
    line = memory._allocators_line()

    assert grown > 4 * 2000 * 200
    assert " threads; " in line and " SQLite connections, " in line
    assert int(line.split(" SQLite connections")[0].rsplit(" ", 1)[1]) >= 4
    for database in databases:
        database.close()
