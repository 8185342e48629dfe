from pathlib import Path

from django.core.management.base import BaseCommand

from prompts.transfer import import_text

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "templates.json"


class Command(BaseCommand):
    help = "Load (or update) the demo prompt templates into the shared library."

    def handle(self, *args, **options) -> None:
        summary = import_text(DEMO_FILE.read_text(encoding="utf-8"), "json")
        self.stdout.write(f"Demo templates ready ({summary.versions} new version(s)).")
