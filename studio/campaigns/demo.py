"""The demo workspace's campaigns: "Lumen lamp launch" in English and "Lumen 台灯上市" in
Chinese (``prompts/demo/campaigns.json``), each a filled brief and deliverables over the demo
templates and the channels (email, Google Ads headlines and descriptions, X posts, SMS, a
landing hero).

The shared demo templates have no template for one-piece channel copy (an SMS, a hero), so
the file also carries "Channel copy" (English and Chinese), imported into the demo workspace
through the import action (a second import is a no-op). A campaign already there, matched by
title, is left as it is (its owner may have changed it): loading again adds nothing.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.db import transaction

from prompts.actions import import_template
from prompts.models import PromptTemplate
from studio.workspaces.models import Workspace

from .actions import add_deliverable
from .models import Campaign

DEMO_FILE = Path(__file__).resolve().parents[2] / "prompts" / "demo" / "campaigns.json"


def demo_data() -> dict:
    return json.loads(DEMO_FILE.read_text("utf-8"))


def _template(workspace: Workspace, slug: str) -> PromptTemplate:
    """The workspace's own template of that slug, else the shared library's."""
    own = PromptTemplate.objects.filter(workspace=workspace, slug=slug).first()
    return own or PromptTemplate.objects.get(workspace=None, slug=slug)


@transaction.atomic
def load_demo_campaigns(*, workspace: Workspace, user) -> int:
    """The demo campaigns in ``workspace``, owned by ``user``: those missing are added with
    their deliverables. Returns how many were added."""
    data = demo_data()
    for template in data["templates"]:
        import_template(data=template, workspace=workspace, user=user)
    added = 0
    for entry in data["campaigns"]:
        if Campaign.objects.filter(workspace=workspace, title=entry["title"]).exists():
            continue
        brief = {
            k: v for k, v in entry.items() if k not in ("deliverables", "starts_on", "ends_on")
        }
        campaign = Campaign.objects.create(
            workspace=workspace,
            owner=user,
            starts_on=datetime.date.fromisoformat(entry["starts_on"]),
            ends_on=datetime.date.fromisoformat(entry["ends_on"]),
            **brief,
        )
        for item in entry["deliverables"]:
            add_deliverable(
                campaign=campaign,
                template=_template(workspace, item["template"]),
                channel=item["channel"],
                count=item["count"],
                overrides=item["overrides"],
            )
        added += 1
    return added
