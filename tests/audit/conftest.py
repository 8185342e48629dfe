"""Audit fixtures: a clean cache and metrics token."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and cached answers live in the cache: each test starts empty."""
    cache.clear()
    yield
    cache.clear()
