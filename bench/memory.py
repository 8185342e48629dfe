"""Where a studio worker's memory grows during a level, from ``tracemalloc``.

The report's memory per open stream is RSS: it says how much, not what. With
``BENCH_MEMORY_DIR`` set, each worker of ``bench/asgi.py`` traces its allocations (one frame
each), takes a snapshot once it has started, and at every new high of traced memory (4 MiB
above the last one written) writes ``<dir>/<pid>.txt``: the lines whose allocations grew most
since that first snapshot, with how many objects each holds. How the N=1000 memory finding in
``docs/benchmark.md`` was read:

    BENCH_MEMORY_DIR=/tmp/memory BENCH_NS=1000 BENCH_PATHS=embedded python -m bench.run

Tracing slows a worker about twofold, so a level saturates sooner and what piles up under
load (upstream bytes read ahead, frames not yet sent) shows more than in a measured run: the
counts say what each open stream holds, the timings of that run mean nothing. The peak
written is the highest one this thread saw, at most every ``EVERY`` seconds.
"""

from __future__ import annotations

import os
import threading
import tracemalloc
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


def watch(directory: Path, stop: threading.Event | None = None) -> threading.Thread:
    """Trace this process's allocations and write the growth at each new high: a daemon
    thread, for the life of the worker (or until ``stop`` is set)."""
    directory.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    tracemalloc.start(FRAMES)

    def loop() -> None:
        if stop.wait(SETTLE):
            return
        first = tracemalloc.take_snapshot()
        written = start = tracemalloc.get_traced_memory()[0]
        while not stop.wait(EVERY):
            now = tracemalloc.get_traced_memory()[0]
            if now >= written + STEP:
                written = now
                head = f"traced {now / 2**20:.1f} MiB, {(now - start) / 2**20:.1f} MiB more\n"
                report = head + growth(first, tracemalloc.take_snapshot())
                replace_whole(directory / f"{os.getpid()}.txt", report)

    thread = threading.Thread(target=loop, name="bench-memory", daemon=True)
    thread.start()
    return thread
