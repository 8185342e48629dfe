"""The multiprocess directory is emptied before the workers start (the image's entry command,
``manage.py serve``), so no earlier run's files are summed into /metrics."""

import os
import subprocess
import sys
from pathlib import Path

from studio.audit.multiproc import reset

ROOT = Path(__file__).resolve().parents[2]


def test_reset_empties_the_directory_and_makes_it(tmp_path):
    directory = tmp_path / "metrics"
    assert reset(str(directory)) == directory and directory.is_dir()
    (directory / "counter_41.db").write_bytes(b"old")
    (directory / "gauge_livesum_42.db").write_bytes(b"old")

    reset(str(directory))

    assert list(directory.iterdir()) == []


def test_reset_keeps_the_files_of_a_process_that_goes_on_serving(tmp_path):
    for name in ("counter_41.db", "counter_4242.db", "gauge_livesum_4242.db"):
        (tmp_path / name).write_bytes(b"x")

    reset(str(tmp_path), keep_pid=4242)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_4242.db",
        "gauge_livesum_4242.db",
    ]


def test_without_the_variable_there_is_nothing_to_do(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    assert reset() is None


def test_the_entry_command_step_runs_on_its_own(tmp_path):
    """``python -m studio.audit.multiproc``: no Django, no prometheus_client needed."""
    stale = tmp_path / "histogram_7.db"
    stale.write_bytes(b"x")
    env = {"PATH": os.environ["PATH"], "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    result = subprocess.run(  # noqa: S603 — our own module
        [sys.executable, "-m", "studio.audit.multiproc"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert not stale.exists() and "is empty" in result.stdout
