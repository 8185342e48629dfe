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
