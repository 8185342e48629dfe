"""bench/run.py's configuration: the run's deadline."""

from __future__ import annotations

import time

from bench import run


def test_the_deadline_counts_from_when_make_bench_began(monkeypatch) -> None:
    """make bench sets BENCH_STARTED, so a fresh clone's installs count against the deadline."""
    monkeypatch.setenv("BENCH_STARTED", str(time.time() - 100))
    assert 430 < run.parse_config(["--deadline", "540"]).remaining() <= 440

    monkeypatch.delenv("BENCH_STARTED")
    assert 530 < run.parse_config(["--deadline", "540"]).remaining() <= 540

    monkeypatch.setenv("BENCH_STARTED", str(time.time() + 50))  # a clock set ahead: now
    assert 530 < run.parse_config(["--deadline", "540"]).remaining() <= 540
