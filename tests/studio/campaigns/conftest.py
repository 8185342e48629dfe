"""Fixtures for the campaign tests: the Lumen launch brief and its deliverables."""

from __future__ import annotations

import datetime

import pytest

from studio.campaigns.actions import add_deliverable
from studio.campaigns.models import Campaign


@pytest.fixture
def campaign(workspace, user) -> Campaign:
    return Campaign.objects.create(
        workspace=workspace,
        owner=user,
        title="Lumen lamp launch",
        product="Lumen lamp",
        audience="night readers",
        offer="20% off in launch week",
        key_message="Warm light that lasts all night",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 3, 31),
        notes="Twelve hours on one charge.",
    )


@pytest.fixture
def templates(demo_templates) -> dict[str, object]:
    return {t.slug: t for t in demo_templates}


@pytest.fixture
def headlines(campaign, templates):
    """Google Ads headlines ×10 from the demo's ad-headlines template."""
    return add_deliverable(
        campaign=campaign,
        template=templates["ad-headlines"],
        channel="google_ads_headline",
        count=10,
        overrides={},
    )


@pytest.fixture
def email(campaign, templates):
    return add_deliverable(
        campaign=campaign,
        template=templates["marketing-email"],
        channel="email",
        count=1,
        overrides={"cta": "Pre-order now"},
    )


@pytest.fixture
def written(campaign, headlines, user):
    """The headlines generated (run stopped: stored only) with a finished version of text."""
    from drafts.actions import add_version
    from drafts.models import Generation
    from studio.audit.origin import Origin
    from studio.campaigns.actions import generate_campaign

    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    Generation.objects.update(status="done")
    headlines.refresh_from_db()
    add_version(
        draft_id=headlines.draft_id,
        text="- Light that follows you\n- Read all night, warmly",
        source="edited",
        author_id=user.pk,
    )
    return headlines


@pytest.fixture
def team(workspace, django_user_model):
    """An editor and a reviewer of the workspace (the owner is ``user``)."""
    from studio.workspaces.actions import add_member

    editor = django_user_model.objects.create_user("ophelia")
    reviewer = django_user_model.objects.create_user("horatio")
    add_member(workspace=workspace, user=editor, role="editor")
    add_member(workspace=workspace, user=reviewer, role="reviewer")
    return editor, reviewer
