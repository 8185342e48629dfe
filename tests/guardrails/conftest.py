"""Guardrail fixtures: a clean cache (rate counters, reservations, cached answers) and an API
key for the checks the JSON API goes through."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from studio.api.actions import create_api_key


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and budget reservations live in the cache: each test starts empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def auth(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(user=user, name='CMS sync')[1]}"}
