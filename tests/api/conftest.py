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
