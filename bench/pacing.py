"""CPU per stream of the SSE side of a stream in this process, alone: ``EventLog`` appends
at the simulator's pace and ``follow`` turns them into frames, under uvloop as uvicorn runs
it. No HTTP and no database: what a change to ``studio.streams.events`` costs or saves,
measured without the bench's noise (docs/decisions/0043-one-wake-per-token.md).

    .venv/bin/python -m bench.pacing [streams] [tokens]
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

import uvloop

from studio.streams.events import Done, EventLog, follow

GAP = 0.02  # seconds between tokens: the bench simulator's 50 tokens a second


async def _produce(log: EventLog, tokens: int) -> None:
    await asyncio.sleep(random.random() * GAP)  # noqa: S311 (spread, not security)
    for _ in range(tokens):
        log.append("content", "token ")
        await asyncio.sleep(GAP)
    log.finish(Done("done"))


async def _watch(log: EventLog) -> int:
    frames = 0
    async for _ in follow(log, after=0, batch=0.05, rate=10_000, heartbeat=15):
        frames += 1
    return frames


async def measure(streams: int, tokens: int) -> tuple[float, float]:
    """CPU ms per stream (producers included) and frames per stream."""
    logs = [EventLog(key) for key in range(streams)]
    started = time.process_time()
    watched = await asyncio.gather(
        *(_watch(log) for log in logs), *(_produce(log, tokens) for log in logs)
    )
    cpu = time.process_time() - started
    return 1000 * cpu / streams, sum(watched[:streams]) / streams


def main() -> None:
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    tokens = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    cpu, frames = uvloop.run(measure(streams, tokens))
    report = f"{streams} streams x {tokens} tokens: {cpu:.2f} ms CPU a stream, {frames:.1f} frames"
    print(report)  # noqa: T201 — a command-line tool


if __name__ == "__main__":
    main()
