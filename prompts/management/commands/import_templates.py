from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from prompts.actions import InvalidTemplate
from prompts.transfer import FORMATS, MAX_BYTES, guess_format, import_text, too_large
from studio.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Import prompt templates from a JSON or YAML export (all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="The export file.")
        parser.add_argument("--workspace", type=int, help="Workspace id (default: the library).")
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file name.")
        parser.add_argument(
            "--move-labels",
            action="store_true",
            help="Move labels named in the file (production...) to the imported versions; "
            "without it an existing label stays where it is and the output says so.",
        )

    def handle(self, *args, **options) -> None:
        workspace = None
        if options["workspace"] is not None:
            workspace = Workspace.objects.filter(pk=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace {options['workspace']}.")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_BYTES:  # before reading it: the web import's cap
            raise CommandError(str(too_large()))
        fmt = options["format"] or guess_format(path.name)
        try:
            summary = import_text(
                path.read_text("utf-8"),
                fmt,
                workspace=workspace,
                move_labels=options["move_labels"],
            )
        except (InvalidTemplate, UnicodeDecodeError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(summary.message())
