"""Fixtures shared by the prompts tests."""

import pytest
from django.core.cache import cache

from drafts import generation as runner


@pytest.fixture
def launched(monkeypatch):
    """Generation ids the views launch (the runner itself is tested in tests/drafts/)."""
    ids: list[int] = []

    def launch(generation) -> None:
        generation_id = generation if isinstance(generation, int) else generation.pk
        # As the real launch does first: the heartbeat that says "running somewhere".
        cache.set(runner.alive_key(generation_id), 1, runner.HEARTBEAT_TTL)
        ids.append(generation_id)

    monkeypatch.setattr(runner, "launch", launch)
    return ids
