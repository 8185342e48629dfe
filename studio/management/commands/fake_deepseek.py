from django.core.management.base import BaseCommand, CommandParser

from studio.deepseek.simulator import main


class Command(BaseCommand):
    help = "Serve the offline DeepSeek-compatible simulator (exact wire format, fault modes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--tps", type=float, default=50.0, help="tokens per second per stream")
        parser.add_argument("--first-token-delay", type=float, default=0.3)

    def handle(self, *args, **options) -> None:
        main(
            [
                "--host", options["host"],
                "--port", str(options["port"]),
                "--tps", str(options["tps"]),
                "--first-token-delay", str(options["first_token_delay"]),
            ]
        )  # fmt: skip
