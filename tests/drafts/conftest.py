"""Fixtures for the drafts tests."""

import pytest

from drafts import generation as runner


@pytest.fixture
def launched(monkeypatch) -> list[int]:
    """The ids of generations the views start, not run: view tests check what was asked;
    the runner itself is driven in test_generation.py and test_sections_generation.py."""
    started: list[int] = []

    def launch(generation) -> None:
        started.append(generation if isinstance(generation, int) else generation.pk)

    monkeypatch.setattr(runner, "launch", launch)
    return started
