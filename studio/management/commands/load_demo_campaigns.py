"""The demo workspace's campaigns (``studio.campaigns.demo``): run after the demo templates
(``load_demo_templates``) and the demo login (``ensure_demo_user``, which calls this)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from prompts.models import PromptTemplate
from studio.campaigns.demo import load_demo_campaigns
from studio.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Add the demo workspace's campaigns if missing (run ensure_demo_user first)."

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username="demo").first()
        workspace = Workspace.objects.for_user(user).order_by("pk").first() if user else None
        if workspace is None:
            raise CommandError("No demo workspace: run `manage.py ensure_demo_user` first.")
        if not PromptTemplate.objects.filter(workspace=None, slug="ad-headlines").exists():
            raise CommandError("No demo templates: run `manage.py load_demo_templates` first.")
        added = load_demo_campaigns(workspace=workspace, user=user)
        self.stdout.write(f"Demo campaigns ready ({added} added).")
