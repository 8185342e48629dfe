import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

# uvicorn serves studio.asgi's application in this process: its drain says how long is left.
from studio.asgi import CLOSING_RESERVE, DRAIN
from studio.audit import multiproc

logger = logging.getLogger(__name__)

WORKER = [sys.executable, "manage.py", "db_worker", "--no-reload"]


class Supervised:
    """A child process kept running: when it exits (e.g. the worker on a transient ``database
    is locked``), it is started again after a pause that doubles on each quick exit, up to
    ``cap`` seconds; one that ran ``healthy_after`` seconds starts the pauses afresh. Nothing
    is restarted once :meth:`stop` is called."""

    def __init__(
        self,
        start: Callable[[], subprocess.Popen],
        *,
        name: str,
        first: float = 1.0,
        cap: float = 60.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.name, self.first, self.cap, self.healthy_after = name, first, cap, healthy_after
        self._start, self._lock, self._stopping = start, threading.Lock(), threading.Event()
        self.process = start()
        self._thread = threading.Thread(target=self._watch, name=f"supervise-{name}", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        delay = self.first
        while True:
            started = time.monotonic()
            status = self.process.wait()
            if time.monotonic() - started >= self.healthy_after:
                delay = self.first
            if self._stopping.is_set():
                return
            logger.warning(
                "%s exited with status %s; restarting it in %g s.", self.name, status, delay
            )
            if self._stopping.wait(delay):
                return
            with self._lock:  # stop() never misses a process started meanwhile
                if self._stopping.is_set():
                    return
                self.process = self._start()
            delay = min(delay * 2, self.cap)

    def halt(self) -> subprocess.Popen:
        """No more restarts; the process now running, to stop."""
        with self._lock:
            self._stopping.set()
            return self.process

    def stop(self, timeout: float = 10) -> None:
        """No more restarts; ask the process to finish (SIGTERM), then kill it after
        ``timeout`` seconds."""
        stop_processes([self.halt()], timeout)
        self._thread.join(timeout)


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    stop_processes([process], timeout)


def stop_processes(processes: list[subprocess.Popen], timeout: float) -> None:
    """Ask every process to finish (SIGTERM) at once, then kill those still running
    ``timeout`` seconds later: they stop side by side, not one after another."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_on_signal(signum: int, frame: object) -> None:
    # uvicorn shuts down on SIGTERM, restores this handler, then raises the signal again: a
    # default handler would end the process there, before the children are stopped.
    raise SystemExit(128 + signum)


class StudioServer(uvicorn.Server):
    """uvicorn's server, saying where the studio is once it listens: the last line printed
    at start, after uvicorn's own and the simulator's."""

    def __init__(self, config: uvicorn.Config, say: Callable[[], None]) -> None:
        super().__init__(config)
        self.say = say

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.say()


class Command(BaseCommand):
    help = (
        "Serve the studio on uvicorn (ASGI) with a background worker (manage.py db_worker); "
        "without DEEPSEEK_API_KEY, start the simulator too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker",
            action="store_false",
            dest="worker",
            help="Do not start the background worker (batch experiments then wait in the queue).",
        )

    def handle(self, *args, **options) -> None:
        simulator = worker = None
        previous = signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            if settings.DEEPSEEK_OFFLINE:
                simulator = self._start_simulator()
                time.sleep(0.5)
                self.stdout.write(
                    self.style.WARNING(
                        f"No DEEPSEEK_API_KEY: using the offline simulator on "
                        f"{settings.DEEPSEEK_SIMULATOR_URL}. Set DEEPSEEK_API_KEY for real output."
                    )
                )
            # PROMETHEUS_MULTIPROC_DIR set: what earlier runs left there goes (this process
            # serves, and already holds its own files); the worker started below writes there.
            multiproc.reset(keep_pid=os.getpid())
            # Another TASKS_BACKEND (e.g. ImmediateBackend) runs tasks itself: no worker.
            queued = settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
            if options["worker"] and queued:
                worker = Supervised(self._start_worker, name="The background worker")
            # One worker: generations run in this process and are watched from it.
            config = uvicorn.Config(
                "studio.asgi:application",
                host=options["host"],
                port=options["port"],
                lifespan="on",
                # uvloop, accepting every waiting connection at each turn (studio.event_loop).
                loop="studio.event_loop:new_event_loop",
                log_level="info",
                # The application drains first (studio.asgi): then what is left is cut off.
                timeout_graceful_shutdown=math.ceil(CLOSING_RESERVE),
            )
            banner = f"DeepSeek Studio is ready: open http://{options['host']}:{options['port']}/"
            StudioServer(config, say=lambda: self._say(self.style.SUCCESS(banner))).run()
        finally:
            # A second SIGTERM must not cut the clean-up short.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            # All at once, within what SHUTDOWN_TIMEOUT leaves since the signal (less a
            # moment for this process to exit): db_worker finishes the task in hand or is
            # killed then, the simulator just ends.
            children = [worker.halt()] if worker is not None else []
            children += [simulator] if simulator is not None else []
            stop_processes(children, timeout=max(DRAIN.remaining(reserve=CLOSING_RESERVE), 0.5))
            signal.signal(signal.SIGTERM, previous)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # before anything else is logged, also into a pipe

    def _start_simulator(self) -> subprocess.Popen:
        port = settings.DEEPSEEK_SIMULATOR_URL.rsplit(":", 1)[-1].strip("/")
        # Warnings only: its own "Uvicorn running on" line would read like the studio's
        # address (the warning printed below names the simulator's).
        command = [sys.executable, "-m", "studio.deepseek.simulator", "--port", port]
        return subprocess.Popen(command + ["--log-level", "warning"])  # noqa: S603 — fixed

    def _start_worker(self) -> subprocess.Popen:
        """The django.tasks worker (django-tasks-db) for background work such as batch runs."""
        worker = subprocess.Popen(  # noqa: S603 — our own manage.py, fixed arguments
            WORKER,
            cwd=settings.BASE_DIR,
            # Its own session: Ctrl+C reaches only this command, which then asks the worker
            # once (SIGTERM) to finish the task in hand; a second signal would cut it off.
            start_new_session=True,
        )
        self.stdout.write(f"Background worker started (manage.py db_worker, pid {worker.pid}).")
        return worker
