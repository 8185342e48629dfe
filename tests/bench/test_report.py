"""bench/report.py: percentiles, the token diff behind "chunks lost", the README block."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report


def test_percentile_interpolates() -> None:
    assert report.percentile([], 50) is None
    assert report.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert report.percentile([0.0, 10.0], 99) == pytest.approx(9.9)


def test_lost_counts_missing_tokens() -> None:
    text = "The key to streams is order. Keep every token."
    assert report._lost(text, text) == 0
    assert report._lost(text, text.replace("every ", "")) == 1
    assert report._lost(text, "") == len(report.tokenize(text))


def test_token_times_follow_the_characters_that_arrived() -> None:
    stream = {"t": [0.1, 0.2], "chars": [4, 11]}  # "The " then "key to "
    ends = report._token_ends("The key to x")
    assert report._token_times(stream, ends) == [0.1, 0.2, 0.2, None]


def test_update_readme_replaces_only_the_generated_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{report.README_START}\nold\n{report.README_END}\n\nAfter.\n")
    results = {
        "generated": "2026-01-01T00:00:00+00:00",
        "machine": {"cpus": 2, "python": "3.13"},
        "config": {"tps": 50, "first_token_delay": 0.3, "tokens": 10, "database": "sqlite"},
        "elapsed_s": 1.0,
        "levels": [],
        "skipped_levels": [],
        "targets": [],
        "litellm": {"status": "unavailable", "reason": "pip install failed"},
    }
    report.update_readme(readme, results)
    text = readme.read_text()
    assert "old" not in text
    assert text.startswith("# Title\n") and text.endswith("After.\n")
    assert "**LiteLLM was not measured**: pip install failed" in text
