"""API fixtures: keys for the shared users, and a clean cache (rate counters, cached answers)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from studio.api.actions import create_api_key


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and cached answers live in the cache: each test starts empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def raw_key(user) -> str:
    return create_api_key(user=user, name="CMS sync")[1]


@pytest.fixture
def auth(raw_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}


@pytest.fixture
def other_auth(other_user) -> dict[str, str]:
    return {"X-API-Key": create_api_key(user=other_user, name="theirs")[1]}


# --- Campaigns (tests/api/test_campaign*.py) ---------------------------------------------


@pytest.fixture
def slugs(demo_templates) -> dict[str, int]:
    return {t.slug: t.pk for t in demo_templates}


@pytest.fixture
def brief(slugs) -> dict:
    """The Lumen launch: three headlines for Google Ads and an email."""
    return {
        "title": "Lumen lamp launch",
        "product": "Lumen lamp",
        "audience": "night readers",
        "offer": "20% off in launch week",
        "key_message": "Warm light that lasts all night",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-31",
        "notes": "Twelve hours on one charge.",
        "deliverables": [
            {"template": slugs["ad-headlines"], "channel": "google_ads_headline", "count": 3},
            {
                "template": slugs["marketing-email"],
                "channel": "email",
                "overrides": {"cta": "Pre-order now"},
            },
        ],
    }


@pytest.fixture
def post_campaign(client, workspace):
    """POST a campaign's JSON body to the workspace with these headers."""

    def post(body, headers):
        url = f"/api/ai/workspaces/{workspace.pk}/campaigns"
        return client.post(url, body, content_type="application/json", headers=headers)

    return post


@pytest.fixture
def created(post_campaign, brief, auth) -> dict:
    """The Lumen launch, created through the API (its answer)."""
    response = post_campaign(brief, auth)
    assert response.status_code == 201, response.content
    return response.json()
