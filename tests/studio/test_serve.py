"""``manage.py serve`` (what ``make run`` calls) starts the background worker beside uvicorn,
restarts it when it exits, and stops it and the simulator on exit, SIGTERM included;
``--no-worker`` leaves it out."""

import logging
import os
import signal
import subprocess
import sys
import threading

import psutil
import pytest
from django.core.management import call_command

from studio.management.commands import serve
from tests.servers import free_port, serve_command


class FakeProcess:
    """A child that runs until it is terminated (``exits``: one that has already ended)."""

    started: list["FakeProcess"] = []

    def __init__(self, args=(), exits: int | None = None, **kwargs) -> None:
        self.args, self.kwargs, self.pid, self.terminated = args, kwargs, 4242, False
        self.ended = threading.Event()
        if exits is not None:
            self.ended.set()
        self.returncode = exits
        FakeProcess.started.append(self)

    def terminate(self) -> None:
        self.terminated = True
        self.returncode = -signal.SIGTERM
        self.ended.set()

    def kill(self) -> None:
        self.terminate()

    def wait(self, timeout=None) -> int:
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode


@pytest.fixture
def fakes(monkeypatch):
    FakeProcess.started = []
    served = []
    monkeypatch.setattr(serve.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(
        serve.StudioServer,
        "run",
        lambda server: served.append((server.config.app, {"port": server.config.port})),
    )
    return served


def test_serve_starts_the_worker_and_stops_it_on_exit(fakes, settings):
    settings.DEEPSEEK_OFFLINE = False
    call_command("serve", "--port", "8123")

    (worker,) = FakeProcess.started
    assert worker.args == [sys.executable, "manage.py", "db_worker", "--no-reload"]
    assert worker.kwargs["start_new_session"]
    assert worker.terminated
    assert fakes[0][0] == "studio.asgi:application" and fakes[0][1]["port"] == 8123


def test_serve_without_the_worker(fakes, settings):
    settings.DEEPSEEK_OFFLINE = False
    call_command("serve", "--no-worker")

    assert FakeProcess.started == []
    assert fakes


def test_no_worker_for_a_backend_that_runs_tasks_itself(fakes, settings):
    settings.DEEPSEEK_OFFLINE = False
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    call_command("serve")

    assert FakeProcess.started == []


def test_serve_empties_the_metrics_directory_but_its_own_files(
    fakes, settings, monkeypatch, tmp_path
):
    """Several processes (serve and its worker) share PROMETHEUS_MULTIPROC_DIR: an earlier
    run's files go, this process's own (opened as it started) stay."""
    import os

    settings.DEEPSEEK_OFFLINE = False
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    stale, own = tmp_path / "counter_1.db", tmp_path / f"counter_{os.getpid()}.db"
    stale.write_bytes(b"x")
    own.write_bytes(b"x")

    call_command("serve", "--no-worker")

    assert not stale.exists() and own.exists()


def test_a_worker_that_exits_is_restarted_with_growing_pauses(caplog):
    """Each quick exit doubles the pause before the next start, up to the cap; each restart
    is logged; stopping ends the last one and restarts nothing."""
    FakeProcess.started = []
    running = threading.Event()

    def start() -> FakeProcess:
        if len(FakeProcess.started) < 4:
            return FakeProcess(exits=1)  # e.g. "database is locked" at once
        running.set()
        return FakeProcess()

    with caplog.at_level(logging.WARNING, logger=serve.__name__):
        supervised = serve.Supervised(start, name="Worker", first=0.001, cap=0.004)
        assert running.wait(timeout=10)
        supervised.stop()

    pauses = [r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records]
    assert pauses == ["0.001 s.", "0.002 s.", "0.004 s.", "0.004 s."]
    assert len(FakeProcess.started) == 5 and FakeProcess.started[-1].terminated


def test_a_worker_exiting_while_serve_stops_is_not_restarted():
    FakeProcess.started = []
    supervised = serve.Supervised(FakeProcess, name="Worker", first=0.001)

    supervised.stop()

    assert len(FakeProcess.started) == 1 and FakeProcess.started[0].terminated
    assert not supervised._thread.is_alive()


# The real command in a process of its own; a stand-in worker (it needs no database).
SERVE = """
import sys, django
django.setup()
from django.core.management import call_command
from studio.management.commands import serve
serve.WORKER = [sys.executable, "-c", "import time; time.sleep(600)"]
call_command("serve", "--port", sys.argv[1])
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_stops_the_simulator_and_the_worker(signum):
    """uvicorn shuts down on the signal and then raises it again: the children must still be
    stopped, not left running without their parent."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEEPSEEK_API_KEY", "PROMETHEUS_MULTIPROC_DIR")
    }
    env |= {"DEBUG": "1", "DEEPSEEK_SIMULATOR_URL": f"http://127.0.0.1:{free_port()}"}
    with serve_command(SERVE, env) as served:
        process, port, seen, children = served.process, served.port, served.seen, served.children
        # Up: uvicorn's signal handlers are in place; then, last, the studio's address.
        assert seen[-1].strip() == f"DeepSeek Studio is ready: open http://127.0.0.1:{port}/"
        assert any(f"Uvicorn running on http://127.0.0.1:{port}" in line for line in seen)
        assert sum("Uvicorn running on" in line for line in seen) == 1, seen  # not the simulator
        assert len(children) == 2, [c.cmdline() for c in children]  # simulator, worker

        process.send_signal(signum)
        process.wait(timeout=60)

        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
        if signum == signal.SIGTERM:
            assert process.returncode == 128 + signal.SIGTERM
