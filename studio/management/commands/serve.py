import os
import subprocess
import sys
import time

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from studio.audit import multiproc


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
        simulator = None
        if settings.DEEPSEEK_OFFLINE:
            port = settings.DEEPSEEK_SIMULATOR_URL.rsplit(":", 1)[-1].strip("/")
            simulator = subprocess.Popen(  # noqa: S603 — our own module, fixed arguments
                [sys.executable, "-m", "studio.deepseek.simulator", "--port", port]
            )
            time.sleep(0.5)
            self.stdout.write(
                self.style.WARNING(
                    f"No DEEPSEEK_API_KEY: using the offline simulator on "
                    f"{settings.DEEPSEEK_SIMULATOR_URL}. Set DEEPSEEK_API_KEY for real output."
                )
            )
        # PROMETHEUS_MULTIPROC_DIR set: what earlier runs left there goes (this process
        # serves, and already holds its own files); the worker started below writes there too.
        multiproc.reset(keep_pid=os.getpid())
        # Another TASKS_BACKEND (e.g. ImmediateBackend) runs tasks itself: no worker to start.
        queued = settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
        worker = self._start_worker() if options["worker"] and queued else None
        self.stdout.write(f"DeepSeek Studio on http://{options['host']}:{options['port']}/")
        try:
            # One worker: generations run in this process and are watched from it.
            uvicorn.run(
                "studio.asgi:application",
                host=options["host"],
                port=options["port"],
                lifespan="on",
                log_level="info",
            )
        finally:
            if worker is not None:
                worker.terminate()  # SIGTERM: db_worker finishes the task in hand, then exits
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
            if simulator is not None:
                simulator.terminate()
                simulator.wait(timeout=5)

    def _start_worker(self) -> subprocess.Popen:
        """The django.tasks worker (django-tasks-db) for background work such as batch runs."""
        worker = subprocess.Popen(  # noqa: S603 — our own manage.py, fixed arguments
            [sys.executable, "manage.py", "db_worker", "--no-reload"],
            cwd=settings.BASE_DIR,
            # Its own session: Ctrl+C reaches only this command, which then asks the worker
            # once (SIGTERM) to finish the task in hand; a second signal would cut it off.
            start_new_session=True,
        )
        self.stdout.write(f"Background worker started (manage.py db_worker, pid {worker.pid}).")
        return worker
