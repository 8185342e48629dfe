import subprocess
import sys
import time

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the studio on uvicorn (ASGI); without DEEPSEEK_API_KEY, start the simulator too."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

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
            if simulator is not None:
                simulator.terminate()
                simulator.wait(timeout=5)
