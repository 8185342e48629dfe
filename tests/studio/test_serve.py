"""``manage.py serve`` (what ``make run`` calls) starts the background worker beside uvicorn
and stops it on exit; ``--no-worker`` leaves it out."""

import sys

import pytest
from django.core.management import call_command

from studio.management.commands import serve


class FakeProcess:
    started: list["FakeProcess"] = []

    def __init__(self, args, **kwargs) -> None:
        self.args, self.kwargs, self.pid, self.terminated = args, kwargs, 4242, False
        FakeProcess.started.append(self)

    def terminate(self) -> None:
        self.terminated = True

    def wait(self, timeout=None) -> int:
        return 0


@pytest.fixture
def fakes(monkeypatch):
    FakeProcess.started = []
    served = []
    monkeypatch.setattr(serve.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **kw: served.append((app, kw)))
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
