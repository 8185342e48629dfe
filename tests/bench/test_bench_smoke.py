"""The benchmark harness end to end in quick mode (N=1 and 2, the embedded studio only): real
processes (simulator, studio under uvicorn, load generator) on loopback, real measurements."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "latest.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.run", "--quick", "--work-dir", str(work), "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def test_every_level_streams_completely_on_both_paths(quick_run) -> None:
    results, _ = quick_run
    assert [level["n"] for level in results["levels"]] == [1, 2]
    for level in results["levels"]:
        direct, studio = level["paths"]["direct"], level["paths"]["studio"]
        assert direct["completed"] == studio["completed"] == level["streams"]
        assert direct["errors"] == studio["errors"] == 0
        assert direct["chunks_lost"] == studio["chunks_lost"] == 0
        assert studio["unverified_streams"] == 0
        assert studio["unfinished"] == 0
        assert studio["ttft_samples"] == level["streams"]
    assert list(results["services"]) == ["studio"]  # no image shape, no LiteLLM: quick


def test_latencies_are_measured(quick_run) -> None:
    results, _ = quick_run
    delay_ms = results["config"]["first_token_delay"] * 1000
    for level in results["levels"]:
        direct, studio = level["paths"]["direct"], level["paths"]["studio"]
        # The simulator holds the first token back for first_token_delay: no path is faster.
        assert direct["ttft_ms"]["p50"] >= delay_ms
        assert studio["ttft_ms"]["p50"] >= delay_ms
        assert direct["gap_ms"]["p50"] > 0 and studio["gap_ms"]["p50"] > 0
        added = studio["added"]
        assert None not in (added["ttft_p50_ms"], added["chunk_p50_ms"], added["chunk_p99_ms"])


def test_studio_resources_and_database_writes_are_measured(quick_run) -> None:
    results, _ = quick_run
    for level in results["levels"]:
        studio = level["studio"]
        assert studio["cpu_ms_per_stream"] > 0
        assert studio["rss_peak_mib"] > 0
        assert studio["generations"] == level["streams"]
        # Each generation inserts its draft, itself and its final version exactly once.
        writes = studio["db_writes"]
        for table in ("drafts_draft", "drafts_generation", "drafts_draftversion"):
            assert writes[f"INSERT {table}"] == level["streams"]
        assert studio["db_writes_per_generation"] >= 3


def test_the_table_is_printed(quick_run) -> None:
    _, stdout = quick_run
    assert "| N | path | samples |" in stdout
    assert "\n| 1 | studio, embedded | 3 / " in stdout
    assert "\n| 2 | studio, embedded | 2 / " in stdout
    assert "Targets (issue 22):" in stdout
