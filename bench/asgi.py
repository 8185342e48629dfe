"""The studio's ASGI app for the benchmark: ``studio.asgi.application`` plus a write counter.

Every database connection the studio opens gets an execute wrapper that counts INSERT, UPDATE
and DELETE statements per table (a dict increment under a lock: nanoseconds next to the query
itself). ``GET /__bench__/db-writes`` answers the counts as JSON before Django sees the
request; anything else goes to the studio unchanged. Served only by ``bench/run.py`` on
loopback, never in production.

With several uvicorn workers an HTTP request reaches one of them only, so when
``BENCH_WRITES_DIR`` is set each worker also writes its own counts to ``<dir>/<pid>.json``:
once when it starts (the file says it is ready to be asked) and again on every SIGUSR1, with
``dumps`` counting the answers. ``bench/run.py`` signals every worker and sums the files.
Then every response also carries an ``X-Bench-Worker`` header (the worker's pid), so that the
load generator can tell a stream watched through another worker than the one that started it.

With ``BENCH_THREADS_DIR`` set, each worker also keeps its threads' names there, for
``python -m bench.threads`` (CPU per thread name over a window); with ``BENCH_MEMORY_DIR``,
it traces its allocations and writes there where its memory grew (``bench/memory.py``); with
``BENCH_REQUESTS_DIR``, it notes when each request enters and when its response starts
(``bench/waits.py``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from django.db.backends.signals import connection_created

from bench import memory, threads, waits
from bench.files import replace_whole
from studio.asgi import application as studio_application

STATS_PATH = "/__bench__/db-writes"
_WRITE_RE = re.compile(
    r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?([\w.]+)"?', re.IGNORECASE
)
# Reentrant: the SIGUSR1 handler runs on the main thread, which may hold it already.
_lock = threading.RLock()
writes: Counter[str] = Counter()
_dumps = 0


def count_writes(execute, sql, params, many, context):
    match = _WRITE_RE.match(sql)
    if match:
        verb = match.group(1).split()[0].upper()
        with _lock:
            writes[f"{verb} {match.group(2)}"] += len(params) if many else 1
    return execute(sql, params, many, context)


def _install(sender, connection, **kwargs) -> None:
    if count_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(count_writes)


connection_created.connect(_install, weak=False)


def dump(directory: Path) -> None:
    """This worker's counts to ``<directory>/<pid>.json``, replaced whole (never half read)."""
    global _dumps
    with _lock:
        _dumps += 1
        data = {"pid": os.getpid(), "dumps": _dumps, "writes": dict(writes)}
    replace_whole(directory / f"{os.getpid()}.json", json.dumps(data))


if os.environ.get("BENCH_THREADS_DIR"):  # CPU per thread name: python -m bench.threads
    threads.keep_names(Path(os.environ["BENCH_THREADS_DIR"]))

if os.environ.get("BENCH_MEMORY_DIR"):  # where memory grows, from tracemalloc
    traced = os.environ.get("BENCH_MEMORY_TRACED", "1") != "0"
    memory.watch(Path(os.environ["BENCH_MEMORY_DIR"]), traced=traced)

SEVERAL_WORKERS = bool(os.environ.get("BENCH_WRITES_DIR"))
WORKER_HEADER = (b"x-bench-worker", str(os.getpid()).encode())
if SEVERAL_WORKERS:
    _dir = Path(os.environ["BENCH_WRITES_DIR"])
    signal.signal(signal.SIGUSR1, lambda *_: dump(_dir))
    dump(_dir)


RECORDER = (
    waits.Recorder(Path(os.environ["BENCH_REQUESTS_DIR"]))
    if os.environ.get("BENCH_REQUESTS_DIR")
    else None
)


async def application(scope: dict[str, Any], receive, send) -> None:
    if scope["type"] == "http" and scope["path"] == STATS_PATH:
        with _lock:
            body = json.dumps(dict(writes)).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] != "http" or not (SEVERAL_WORKERS or RECORDER):
        await studio_application(scope, receive, send)
        return
    number = RECORDER.entered(scope["method"], scope["path"]) if RECORDER else 0

    async def send_noted(message) -> None:
        if message["type"] == "http.response.start":
            if RECORDER:
                RECORDER.started(number)
            if SEVERAL_WORKERS:  # naming the worker
                message = {**message, "headers": [*message.get("headers", []), WORKER_HEADER]}
        await send(message)

    await studio_application(scope, receive, send_noted)
