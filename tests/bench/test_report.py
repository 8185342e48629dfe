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


RESULTS = {
    "generated": "2026-01-01T00:00:00+00:00",
    "machine": {"cpus": 2, "python": "3.13"},
    "config": {"tps": 50, "first_token_delay": 0.3, "tokens": 10, "database": "sqlite"},
    "elapsed_s": 1.0,
    "levels": [],
    "skipped_levels": [],
    "targets": [],
    "litellm": {"status": "unavailable", "reason": "pip install failed"},
}


def _checkout(root: Path) -> tuple[Path, Path, bytes]:
    """A checkout with a README (holding the markers too, as the old one did) and the page."""
    readme = root / "README.md"
    readme.write_text(f"# Title\n\n{report.REPORT_START}\nkept\n{report.REPORT_END}\n")
    doc = root / "docs" / "benchmark.md"
    doc.parent.mkdir()
    doc.write_text(f"# Benchmark\n\n{report.REPORT_START}\nold\n{report.REPORT_END}\n\nAfter.\n")
    return readme, doc, readme.read_bytes()


def test_update_report_replaces_only_the_generated_block(tmp_path: Path) -> None:
    readme, doc, before = _checkout(tmp_path)
    assert report.update_report(RESULTS, root=tmp_path) == doc
    text = doc.read_text()
    assert "old" not in text
    assert text.startswith("# Benchmark\n") and text.endswith("After.\n")
    assert "**LiteLLM was not measured**: pip install failed" in text
    # The chart is linked from docs/, where the page is.
    assert "![Benchmark chart](../bench/results/latest.png)" in text
    assert readme.read_bytes() == before


def test_make_bench_writes_docs_benchmark_md_and_never_the_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make bench` calls (bench/run.py: ``report.update_report(results)``) writes the
    checkout's docs/benchmark.md, and a README is left byte for byte as it was."""
    readme, doc, before = _checkout(tmp_path)
    monkeypatch.setattr(report, "ROOT", tmp_path)
    assert report.update_report(RESULTS) == doc
    assert "2026-01-01T00:00:00+00:00" in doc.read_text()
    assert readme.read_bytes() == before
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "README.md",
        "docs",
        "docs/benchmark.md",
    ]


def test_the_real_report_page_has_the_block_and_the_readme_has_none() -> None:
    root = Path(__file__).resolve().parents[2]
    assert root == report.ROOT
    page = (root / report.REPORT_DOC).read_text()
    assert page.count(report.REPORT_START) == page.count(report.REPORT_END) == 1
    assert report.REPORT_START not in (root / "README.md").read_text()


def test_a_full_run_rewrites_the_report_and_a_quick_run_does_not() -> None:
    from bench import run

    assert run.parse_config([]).report
    assert not run.parse_config(["--no-report"]).report
    assert not run.parse_config(["--quick"]).report
