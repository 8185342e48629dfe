import json
from pathlib import Path

from django.core.management.base import BaseCommand

from prompts.actions import import_template

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "templates.json"


class Command(BaseCommand):
    help = "Load (or update) the demo prompt templates into the shared library."

    def handle(self, *args, **options) -> None:
        created = 0
        for data in json.loads(DEMO_FILE.read_text(encoding="utf-8")):
            _, new_version = import_template(data=data)
            created += new_version
        self.stdout.write(f"Demo templates ready ({created} new version(s)).")
