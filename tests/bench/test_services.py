"""bench/services.py: a path's CPU and memory are its whole process tree's."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench import services

# A child that, once told to (a file appears), burns 0.5 s of CPU, says so in another file,
# then waits; its parent only waits.
CHILD = """
import os, sys, time
while not os.path.exists(sys.argv[1] + ".go"):
    time.sleep(0.01)
start = time.process_time()
while time.process_time() - start < 0.5:
    pass
open(sys.argv[1], "w").close()
time.sleep(60)
"""
PARENT = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1], sys.argv[2]])"


def test_sampling_sums_the_cpu_of_a_supervisor_and_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "burnt"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, str(marker)])  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.01)
        with services.sampling(parent.pid) as stats:
            marker.with_name("burnt.go").touch()
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        assert marker.exists()
        assert stats["processes"] == 2
        # The parent used almost none of it: the child's half second is counted.
        assert stats["cpu_s"] >= 0.4
        assert stats["rss_peak"] >= stats["rss_before"] > 0
    finally:
        for proc in psutil.Process(parent.pid).children(recursive=True):
            proc.kill()
        parent.kill()
        parent.wait()


def test_an_image_shape_without_postgresql_is_reported_and_not_fatal(
    tmp_path: Path, monkeypatch
) -> None:
    """PostgreSQL refusing connections: the shape says why, and nothing was started."""
    from bench import run

    monkeypatch.setenv("BENCH_IMAGE_DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere")
    config = run.parse_config(["--work-dir", str(tmp_path)])
    with contextlib.ExitStack() as stack:
        shape = services.start_studio_shape(config, "studio_image", "http://127.0.0.1:1", 1, stack)
    assert shape["status"] == "unavailable"
    assert shape["reason"].startswith("OperationalError") and "127.0.0.1" in shape["reason"]
    assert not (tmp_path / "studio_image.log").exists()


def test_a_baseline_revision_is_exported_once_without_a_worktree(tmp_path: Path) -> None:
    sha, tree = services.export_revision("HEAD", tmp_path)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607
        cwd=services.ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert sha == head and tree == tmp_path / f"baseline-{sha[:12]}"
    assert (tree / "manage.py").exists() and (tree / "bench" / "studio_side.py").exists()
    worktrees = subprocess.run(
        ["git", "worktree", "list"],  # noqa: S607
        cwd=services.ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert str(tree) not in worktrees
    (tree / "marker").touch()  # the next run reuses the export
    assert services.export_revision(sha, tmp_path) == (sha, tree)
    assert (tree / "marker").exists()


def test_litellm_is_installed_once_and_started_with_one_and_two_workers(
    tmp_path: Path, monkeypatch
) -> None:
    """The command lines (LiteLLM itself is not installed by the tests)."""
    from bench import run

    installs, started = [], []

    class FakeService:
        def __init__(self, name, cmd, env, log, cwd=services.ROOT) -> None:
            started.append((name, cmd))
            self.pid = 1000 + len(started)

        def wait_ready(self, url, timeout, auth="") -> None:
            pass

        def stop(self) -> None:
            pass

    monkeypatch.setattr(
        services, "ensure_litellm", lambda: installs.append(1) or Path("/x/litellm")
    )
    monkeypatch.setattr(services, "Service", FakeService)
    monkeypatch.setattr(services, "worker_pids", lambda pid: [1, 2])
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "1.2\n")
    )
    config = run.parse_config(["--work-dir", str(tmp_path)])
    with contextlib.ExitStack() as stack:
        shapes = services.start_litellms(config, ["litellm", "litellm_2w"], "http://sim", stack)
    assert installs == [1]
    assert [s["label"] for s in shapes.values()] == ["LiteLLM, 1 worker", "LiteLLM, 2 workers"]
    assert all(s["status"] == "ok" and s["version"] == "1.2" for s in shapes.values())
    assert [cmd[cmd.index("--num_workers") + 1] for _, cmd in started] == ["1", "2"]


def test_litellm_that_does_not_install_is_reported_for_both_paths(tmp_path, monkeypatch) -> None:
    from bench import run

    def fail() -> Path:
        raise RuntimeError("pip install failed: no network")

    monkeypatch.setattr(services, "ensure_litellm", fail)
    config = run.parse_config(["--work-dir", str(tmp_path)])
    with contextlib.ExitStack() as stack:
        shapes = services.start_litellms(config, ["litellm", "litellm_2w"], "http://sim", stack)
    assert {s["status"] for s in shapes.values()} == {"unavailable"}
    assert shapes["litellm_2w"]["reason"] == "RuntimeError: pip install failed: no network"
