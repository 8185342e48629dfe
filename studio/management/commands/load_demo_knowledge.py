"""The demo workspace's knowledge: the Lumen lamp's product sheet and the ``lumen`` CLI
reference, in English and Chinese (``prompts/demo/knowledge/``, listed in ``sources.json``
with their titles and tags).

Each file goes through the knowledge app's own parse and ingest (so it is chunked and indexed
like an upload), and loading again changes nothing: a source already there keeps its version
while its file is unchanged, and gets a new version when the file has changed.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from prompts.knowledge.actions import add_source, add_source_version
from prompts.knowledge.models import Source
from prompts.knowledge.parsing import kind_for, parse
from studio.workspaces.models import Workspace

KNOWLEDGE_DIR = Path(__file__).resolve().parents[3] / "prompts" / "demo" / "knowledge"


def demo_sources() -> list[dict]:
    """``sources.json``: one ``{"file", "title", "tags"}`` per demo source."""
    return json.loads((KNOWLEDGE_DIR / "sources.json").read_text("utf-8"))


def load_demo_knowledge(*, workspace: Workspace, user) -> tuple[int, int]:
    """Each demo source in ``workspace``, owned by ``user``: added when missing, a new version
    when its file changed. Returns how many were added and how many updated."""
    added = updated = 0
    for entry in demo_sources():
        data = (KNOWLEDGE_DIR / entry["file"]).read_bytes()
        document = parse(data, kind=kind_for(entry["file"]), filename=entry["file"])
        source = Source.objects.filter(workspace=workspace, title=entry["title"]).first()
        if source is None:
            add_source(
                workspace=workspace,
                user=user,
                title=entry["title"],
                tags=entry["tags"],
                document=document,
            )
            added += 1
        elif (current := source.current_version()) is None or current.sha256 != document.sha256:
            add_source_version(source=source, user=user, document=document)
            updated += 1
    return added, updated


class Command(BaseCommand):
    help = "Load (or update) the demo workspace's knowledge sources (run ensure_demo_user first)."

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username="demo").first()
        workspace = Workspace.objects.for_user(user).order_by("pk").first() if user else None
        if workspace is None:
            raise CommandError("No demo workspace: run `manage.py ensure_demo_user` first.")
        added, updated = load_demo_knowledge(workspace=workspace, user=user)
        self.stdout.write(f"Demo knowledge ready ({added} added, {updated} updated).")
