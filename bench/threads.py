"""CPU per Python thread name of the studio's workers over a window, from ``/proc``.

Python (3.13) does not give its threads OS names, so ``/proc`` alone cannot tell the event
loop from the request threads, the final panels or the database writer. With
``BENCH_THREADS_DIR`` set, each worker of ``bench/asgi.py`` keeps ``<dir>/<pid>.threads.json``
(its threads' native ids and names) up to date; this reads the CPU time of every thread of
those workers at the window's start and end and adds it up by name (``final-panel_3`` counts
as ``final-panel``). How ``docs/decisions/0047-*.md`` found the Redis relay:

    BENCH_THREADS_DIR=/tmp/threads BENCH_NS=100 BENCH_PATHS=image make bench   # or bench.run
    .venv/bin/python -m bench.threads /tmp/threads 8    # while the level runs: 8 s window

Linux only (``/proc``); a thread that ends within the window is counted up to its last read.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.files import replace_whole

NAMES_EVERY = 0.5  # seconds between a worker's writes of its thread names
_NUMBERED = re.compile(r"[_-]?\d+$")


def write_names(directory: Path) -> None:
    """This process's thread names by native id, to ``<directory>/<pid>.threads.json``,
    replaced whole (never half read)."""
    names = {str(thread.native_id): thread.name for thread in threading.enumerate()}
    replace_whole(directory / f"{os.getpid()}.threads.json", json.dumps(names))


def keep_names(directory: Path) -> threading.Thread:
    """A daemon thread that writes this process's thread names every ``NAMES_EVERY`` s."""
    directory.mkdir(parents=True, exist_ok=True)

    def loop() -> None:
        while True:
            write_names(directory)
            time.sleep(NAMES_EVERY)

    thread = threading.Thread(target=loop, name="bench-thread-names", daemon=True)
    thread.start()
    return thread


def cpu_ticks(pid: int) -> dict[int, int]:
    """Each thread of ``pid``: user + system CPU, in clock ticks (``/proc/<pid>/task``)."""
    ticks = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:  # the process is gone
        return ticks
    for tid in tids:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:  # the thread ended
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks[int(tid)] = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def names_in(directory: Path) -> dict[int, dict[int, str]]:
    """The thread names each worker wrote last: {pid: {native id: name}}."""
    found = {}
    for path in directory.glob("*.threads.json"):
        names = json.loads(path.read_text())
        found[int(path.name.split(".")[0])] = {int(tid): name for tid, name in names.items()}
    return found


def by_name(
    before: dict[int, dict[int, int]],
    after: dict[int, dict[int, int]],
    names: dict[int, dict[int, str]],
) -> Counter[str]:
    """CPU seconds per thread name between two readings ({pid: {tid: ticks}}), numbered
    names counted together; a thread whose name is unknown counts as ``unnamed``."""
    tick = os.sysconf("SC_CLK_TCK")
    spent: Counter[str] = Counter()
    for pid, threads in after.items():
        for tid, ticks in threads.items():
            name = _NUMBERED.sub("", names.get(pid, {}).get(tid, "unnamed"))
            spent[name] += (ticks - before.get(pid, {}).get(tid, 0)) / tick
    return spent


def measure(directory: Path, seconds: float) -> Counter[str]:
    """CPU seconds per thread name of the workers writing to ``directory``, over a window."""
    pids = list(names_in(directory))
    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(seconds)
    after = {pid: cpu_ticks(pid) for pid in pids}
    return by_name(before, after, names_in(directory))


def main() -> None:
    directory, seconds = Path(sys.argv[1]), float(sys.argv[2])
    spent = measure(directory, seconds)
    for name, cpu in spent.most_common():
        print(f"{cpu:8.2f} s  {name}")  # noqa: T201 — a command-line tool
    print(f"{sum(spent.values()):8.2f} s  in all, {seconds:g} s window")  # noqa: T201


if __name__ == "__main__":
    main()
