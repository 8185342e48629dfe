"""The first-token trace end to end: real processes on loopback, marks in causal order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.trace import SEGMENTS

ROOT = Path(__file__).resolve().parents[2]


def test_the_trace_splits_the_time_to_the_first_token_into_segments_in_order(tmp_path) -> None:
    out = tmp_path / "trace.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.trace", "--generations", "2", "--tps", "500",
         "--out", str(out), "--work-dir", str(tmp_path / "work")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    rows = {}
    for line in out.read_text().splitlines():
        if line.startswith("| ") and not line.startswith("| segment"):
            name, *figures = (cell.strip() for cell in line.strip("|").split("|"))
            rows[name] = [float(f) for f in figures]
    assert list(rows)[: len(SEGMENTS)] == [name for name, _, _ in SEGMENTS]
    for name, (median, low, high) in rows.items():
        assert 0 <= low <= median <= high, name  # every mark came after the one before it
    assert rows["DeepSeek (simulator)"][1] >= 300  # the simulator's first-token delay
    total = sum(rows[name][0] for name, _, _ in SEGMENTS)
    assert total > rows["**added** (without DeepSeek's share)"][0] > 0
