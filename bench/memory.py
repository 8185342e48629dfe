"""Where a studio worker's memory grows during a level, from ``tracemalloc`` and the live
objects.

The report's memory per open stream is RSS: it says how much, not what. With
``BENCH_MEMORY_DIR`` set, each worker of ``bench/asgi.py`` traces its allocations (one frame
each), takes a snapshot once it has started, and at every new high of traced memory (4 MiB
above the last one written) writes ``<dir>/<pid>.txt``: the lines whose allocations grew most
since that first snapshot, with how many objects each holds, then the types whose live
objects (those the garbage collector tracks: not strings or bytes) grew most, by their
shallow sizes. How the N=1000 memory finding in ``docs/benchmark.md`` was read:

    BENCH_MEMORY_DIR=/tmp/memory BENCH_NS=1000 BENCH_PATHS=embedded python -m bench.run

Tracing slows a worker about twofold, so a level saturates sooner and what piles up under
load (upstream bytes read ahead, frames not yet sent) shows more than in a measured run: the
counts say what each open stream holds, the timings of that run mean nothing. With
``BENCH_MEMORY_TRACED=0`` nothing is traced: the reports follow resident memory, say what
each allocator holds (pymalloc, malloc, SQLite's own share of malloc), how many threads and
SQLite connections the worker has, and list the live objects by type only, from a worker at
its measured pace (how decision 63 found a thread and a connection per request in a burst).
The peak written is the highest one this thread saw, at most every ``EVERY`` seconds.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sqlite3
import sys
import tempfile
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

from bench.files import replace_whole

FRAMES = 1  # one frame per allocation: the line that made it (cheaper to trace)
SETTLE = 3.0  # seconds after start before the first snapshot (imports done)
EVERY = 0.5  # seconds between looks at the traced total
STEP = 4 * 2**20  # a new high this far above the last one written is written
TOP = 80  # lines per report


def growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int = TOP) -> str:
    """The lines whose allocations grew most from ``before`` to ``after``: KiB and objects
    more, then the line (paths as they are; ``site-packages/`` and the checkout cut)."""
    lines = []
    for stat in after.compare_to(before, "lineno")[:top]:
        where = str(stat.traceback[0]).split("site-packages/")[-1]
        where = where.removeprefix(f"{Path.cwd()}/")
        lines.append(f"{stat.size_diff / 1024:10.1f} KiB {stat.count_diff:8d}  {where}")
    return "\n".join(lines)


def live_types() -> tuple[Counter[str], Counter[str]]:
    """How many live objects of each type the garbage collector tracks, by qualified name,
    and their shallow sizes in bytes (``sys.getsizeof``: a dict's table, not its values)."""
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for o in gc.get_objects():
        name = f"{type(o).__module__}.{type(o).__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(o)
    return counts, sizes


def type_growth(
    before: tuple[Counter[str], Counter[str]],
    after: tuple[Counter[str], Counter[str]],
    top: int = TOP,
) -> str:
    """The types whose live objects' shallow sizes grew most from ``before`` to ``after``:
    KiB and objects more, then the type."""
    (counts_before, sizes_before), (counts, sizes) = before, after
    grown = (sizes - sizes_before).most_common(top)
    return "\n".join(
        f"{size / 1024:10.1f} KiB {counts[name] - counts_before[name]:8d}  {name}"
        for name, size in grown
    )


class _MallInfo2(ctypes.Structure):
    _fields_ = [  # noqa: RUF012  (ctypes reads it from the class)
        (name, ctypes.c_size_t)
        for name in (
            *("arena", "ordblks", "smblks", "hblks", "hblkhd"),
            *("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"),
        )
    ]


_PYMALLOC = {
    "arenas": "bytes/arena",  # "3 arenas * 1048576 bytes/arena = 3,145,728"
    "in use": "# bytes in allocated blocks",
    "free": "# bytes in available blocks",
    "unused pools": "unused pools",
}


def allocators() -> dict[str, dict[str, int]]:
    """Bytes by allocator, now: Python's small-object allocator (pymalloc: objects of 512
    bytes or less, in 1 MiB arenas; its free blocks and pools are memory held for reuse) and
    the C library's ``malloc`` (larger objects, C extensions' buffers; ``mallinfo2``: in use
    from its heaps, in blocks of their own mapping, and free in its heaps).

    pymalloc's figures come from ``sys._debugmallocstats()``, which prints them to the
    process's stderr: a line another thread writes to stderr meanwhile goes with them."""
    with tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        lines = out.read().splitlines()
    pymalloc = {}
    for name, start in _PYMALLOC.items():
        found = next((line for line in lines if start in line), "= 0")
        value = int(found.rsplit("=", 1)[1].replace(",", ""))
        pymalloc[name] = value
    info = ctypes.CDLL(None).mallinfo2
    info.restype = _MallInfo2
    got = info()
    heap = {"in use": got.uordblks, "free": got.fordblks, "mapped": got.hblkhd}
    return {"pymalloc": pymalloc, "malloc": heap}


def sqlite_memory() -> int | None:
    """Bytes SQLite's own allocator holds now, every connection's schema, statements and
    page cache (``sqlite3_status64``; part of malloc's in use), or None where the ``sqlite3``
    module does not use the system's ``libsqlite3.so.0``."""
    try:  # only the library already loaded (the module's own), never a second copy
        status = ctypes.CDLL("libsqlite3.so.0", mode=os.RTLD_NOLOAD).sqlite3_status64
    except (OSError, AttributeError):
        return None
    current, highest = ctypes.c_int64(), ctypes.c_int64()
    status(0, ctypes.byref(current), ctypes.byref(highest), 0)  # SQLITE_STATUS_MEMORY_USED
    return current.value


def _allocators_line() -> str:
    mib = {k: {n: v / 2**20 for n, v in d.items()} for k, d in allocators().items()}
    py, heap = mib["pymalloc"], mib["malloc"]
    connections = sum(1 for o in gc.get_objects() if type(o) is sqlite3.Connection)
    used = sqlite_memory()
    sqlite = f", {used / 2**20:.1f} MiB" if used is not None else ""
    return (
        f"pymalloc {py['arenas']:.1f} MiB in arenas: {py['in use']:.1f} in use, "
        f"{py['free'] + py['unused pools']:.1f} free; malloc {heap['in use']:.1f} MiB in use "
        f"and {heap['mapped']:.1f} in mapped blocks, {heap['free']:.1f} free; "
        f"{threading.active_count()} threads; {connections} SQLite connections{sqlite}\n"
    )


def _resident() -> int:
    """This process's resident memory in bytes, now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def watch(
    directory: Path, stop: threading.Event | None = None, *, traced: bool = True
) -> threading.Thread:
    """Write the growth at each new high, in a daemon thread, for the life of the worker (or
    until ``stop`` is set): of traced memory, with the lines that allocated it and the live
    objects by type; or, not ``traced``, of resident memory, with the live objects by type
    only (no tracing: the worker runs at its measured pace)."""
    directory.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    if traced:
        tracemalloc.start(FRAMES)

    def total() -> int:
        return tracemalloc.get_traced_memory()[0] if traced else _resident()

    def loop() -> None:
        if stop.wait(SETTLE):
            return
        first = tracemalloc.take_snapshot() if traced else None
        first_types = live_types()
        at_start = "" if traced else f"at start: {_allocators_line()}"
        written = start = total()
        while not stop.wait(EVERY):
            now = total()
            if now >= written + STEP:
                written = now
                what = "traced" if traced else "resident"
                report = f"{what} {now / 2**20:.1f} MiB, {(now - start) / 2**20:.1f} MiB more\n"
                if first is not None:  # (pymalloc says nothing of itself while traced)
                    report += growth(first, tracemalloc.take_snapshot()) + "\n\n"
                else:
                    report += f"now: {_allocators_line()}{at_start}"
                report += "live objects by type, more (shallow sizes)\n"
                report += type_growth(first_types, live_types())
                replace_whole(directory / f"{os.getpid()}.txt", report)

    thread = threading.Thread(target=loop, name="bench-memory", daemon=True)
    thread.start()
    return thread
