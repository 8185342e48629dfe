"""Where the studio's requests wait under load: before a worker accepts them, and inside it.

- *Inside*: with ``BENCH_REQUESTS_DIR`` set, each worker of ``bench/asgi.py`` appends a line
  to ``<dir>/<pid>.txt`` as a request enters the application and as its response starts
  (wall-clock times). :func:`read` pairs them; :func:`summary` gives, for each window of
  arrival, how many requests of each kind (``generate``: the Generate POST; ``events``: a
  generation's SSE stream; ``other``) entered and how long they were inside before their
  response started.
- *Before*: :func:`accept_queue` reads how many connections the kernel has completed on a
  listening port that no worker has accepted yet (``/proc/net/tcp``, Linux only).

How docs/benchmark.md found where the image shape's time to first token goes at N=500:

    BENCH_REQUESTS_DIR=/tmp/requests BENCH_NS=500 BENCH_PATHS=image BENCH_LITELLM=0 \\
        .venv/bin/python -m bench.run --no-report --no-chart
    .venv/bin/python -m bench.waits /tmp/requests          # one table per level
    .venv/bin/python -m bench.waits --queue PORT            # while a level runs

The level's requests come in one burst; bursts more than :data:`QUIET` seconds apart (the
bench's levels) are summarized apart.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

QUIET = 5.0  # seconds without a new request that separate two bursts (two levels)
WINDOW = 2.0  # seconds of arrival per row of the summary
_KINDS = (("generate", re.compile(r"/generate/$")), ("events", re.compile(r"/events/$")))


class Recorder:
    """One worker's lines: ``<time> in <n> <method> <path>``, then ``<time> start <n>``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._file = (directory / f"{os.getpid()}.txt").open("a", buffering=1)
        self._numbers = itertools.count()

    def entered(self, method: str, path: str) -> int:
        number = next(self._numbers)
        self._file.write(f"{time.time():.4f} in {number} {method} {path}\n")
        return number

    def started(self, number: int) -> None:
        self._file.write(f"{time.time():.4f} start {number}\n")


@dataclass(frozen=True)
class Request:
    kind: str
    entered: float
    inside: float | None  # seconds until its response started; None: it never started


def kind_of(path: str) -> str:
    return next((kind for kind, pattern in _KINDS if pattern.search(path)), "other")


def read(directory: Path) -> list[Request]:
    """Every worker's requests, in order of arrival."""
    found = []
    for file in directory.glob("*.txt"):
        entered: dict[str, tuple[str, float]] = {}
        started: dict[str, float] = {}
        for line in file.read_text().splitlines():
            when, what, number, *rest = line.split()
            if what == "in":
                entered[number] = (kind_of(rest[-1]), float(when))
            else:
                started[number] = float(when)
        for number, (kind, when) in entered.items():
            start = started.get(number)
            found.append(Request(kind, when, None if start is None else start - when))
    return sorted(found, key=lambda request: request.entered)


def bursts(requests: list[Request], quiet: float = QUIET) -> list[list[Request]]:
    """The requests in bursts: a new one after ``quiet`` seconds with none."""
    found: list[list[Request]] = []
    for request in requests:
        if not found or request.entered - found[-1][-1].entered > quiet:
            found.append([])
        found[-1].append(request)
    return found


def summary(burst: list[Request], window: float = WINDOW) -> list[str]:
    """One line per window of arrival and kind: entered, time inside p50 / max (seconds),
    and how many responses never started."""
    first = burst[0].entered
    lines = [f"{len(burst)} requests over {burst[-1].entered - first:.1f} s"]
    for start in _windows(burst, first, window):
        for kind in ("generate", "events", "other"):
            here = [
                r for r in burst if r.kind == kind and start <= r.entered - first < start + window
            ]
            if not here:
                continue
            inside = [r.inside for r in here if r.inside is not None]
            timing = (
                f"inside p50 {statistics.median(inside):.2f} s, max {max(inside):.2f} s"
                if inside
                else "none started"
            )
            never = len(here) - len(inside)
            lines.append(
                f"  {start:5.1f}-{start + window:5.1f} s  {kind:8} {len(here):4d} entered, "
                + timing
                + (f", {never} never started" if never else "")
            )
    return lines


def _windows(burst: list[Request], first: float, window: float) -> Iterable[float]:
    last = burst[-1].entered - first
    return (step * window for step in range(int(last // window) + 1))


def accept_queue(port: int, proc: Path = Path("/proc/net")) -> int | None:
    """Connections waiting to be accepted on the listening socket bound to ``port`` (the
    LISTEN entry's receive queue in ``/proc/net/tcp`` and ``tcp6``); None: no such socket."""
    for table in ("tcp", "tcp6"):
        try:
            rows = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                return int(queues.split(":")[1], 16)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, help="BENCH_REQUESTS_DIR of a run")
    parser.add_argument("--queue", type=int, metavar="PORT", help="sample the accept queue")
    args = parser.parse_args()
    if args.queue:
        while True:  # until Ctrl+C
            print(f"{time.time():.1f} {accept_queue(args.queue)}", flush=True)  # noqa: T201
            time.sleep(0.5)
    if args.directory is None:
        parser.error("give BENCH_REQUESTS_DIR's directory, or --queue PORT")
    for number, burst in enumerate(bursts(read(args.directory)), 1):
        print(f"Burst {number}: " + "\n".join(summary(burst)))  # noqa: T201 — a command-line tool


if __name__ == "__main__":
    main()
