from django.core.management.base import BaseCommand, CommandError

from prompts.models import PromptTemplate
from prompts.transfer import FORMATS, dumps, guess_format


class Command(BaseCommand):
    help = "Export prompt templates (their current versions) as JSON or YAML."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workspace", type=int, help="Workspace id (default: the library).")
        parser.add_argument("--slug", action="append", help="Only these templates (repeatable).")
        parser.add_argument("--format", choices=FORMATS, help="Default: from --output, else json.")
        parser.add_argument("--output", "-o", help="File to write (default: stdout).")

    def handle(self, *args, **options) -> None:
        templates = PromptTemplate.objects.filter(workspace_id=options["workspace"])
        if options["slug"]:
            templates = templates.filter(slug__in=options["slug"])
        if not templates.exists():
            raise CommandError("No templates to export.")
        fmt = options["format"] or guess_format(options["output"] or "")
        text = dumps(templates.order_by("slug"), fmt)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
            self.stderr.write(f"Exported {templates.count()} template(s) to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
