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
    "services": {"litellm": {"status": "unavailable", "reason": "pip install failed"}},
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
    assert "- LiteLLM, 1 worker: **not measured**: pip install failed" in text
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


# --- Issue 22: every path's row, samples, process-tree resources and the targets ------------

TEXT = "Alpha beta gamma delta epsilon."  # five tokens
TOKENS = 5


def _stream(i: int, ttft: float, *, gap: float = 0.02, finished: bool = True) -> dict:
    """One stream as the load generator records it: the text's tokens at ttft, ttft+gap, …;
    an unfinished one stops after two tokens."""
    ends = report._token_ends(TEXT)[: None if finished else 2]
    return {
        "i": i,
        "ok": finished,
        "error": "" if finished else "not finished within the level's 60 s",
        "t": [ttft + k * gap for k in range(len(ends))],
        "chars": ends,
        "text": TEXT[: ends[-1]],
        "done": finished,
        "completion_tokens": TOKENS,
        "generation_id": i + 1,
    }


def _raw_level(n: int, added_s: dict[str, float], *, count: int | None = None, **kw) -> dict:
    """A level as bench/run.py's run_level hands it over: direct streams with a 0.3 s TTFT,
    each path ``added_s[path]`` later; ``unfinished`` {path: k} cuts k of its streams short;
    ``cpu_s`` {path: seconds}; ``rss`` {path: (before, peak)}; ``writes`` {path: by worker}."""
    count = count or n
    direct = [_stream(i, 0.3) for i in range(count)]
    paths = {"direct": {"wall_s": 1.0, "streams": direct}}
    for name, extra in added_s.items():
        cut = kw.get("unfinished", {}).get(name, 0)
        streams = [_stream(i, 0.3 + extra, finished=i >= cut) for i in range(count)]
        paths[name] = {"wall_s": 1.0, "streams": streams}
    resources = {
        name: {
            "cpu_s": kw.get("cpu_s", {}).get(name, 0.1 * count),
            "wall_s": 10.0,
            "rss_before": kw.get("rss", {}).get(name, (100 * 2**20, 0))[0],
            "rss_peak": sum(kw.get("rss", {}).get(name, (100 * 2**20, 0))),
            "processes": 3,
        }
        for name in added_s
    }
    writes = kw.get("writes") or {
        name: {"1": {"INSERT drafts_generation": count, "UPDATE drafts_generation": 2 * count}}
        for name in added_s
        if name.startswith("studio")
    }
    return {
        "n": n,
        "count": count,
        "ramp_s": 4.0,
        "timeout_s": 60.0,
        "paths": paths,
        "resources": resources,
        "db_writes": writes,
    }


def test_every_path_is_measured_against_the_same_direct_run() -> None:
    raw = _raw_level(
        10,
        {"studio": 0.010, "studio_image": 0.030, "litellm": 0.020, "litellm_2w": 0.015},
        unfinished={"studio_image": 3},
        cpu_s={"studio": 0.5, "studio_image": 1.2},
        rss={"studio_image": (300 * 2**20, 10 * 1024 * 20)},
        writes={
            "studio": {"1": {"INSERT drafts_generation": 10, "UPDATE drafts_generation": 40}},
            "studio_image": {
                "11": {"INSERT drafts_generation": 6, "UPDATE drafts_generation": 24},
                "12": {"INSERT drafts_generation": 4, "UPDATE drafts_generation": 16},
            },
        },
    )
    level = report.analyse_level(raw, TOKENS)
    studio, image = level["paths"]["studio"], level["paths"]["studio_image"]
    assert studio["added"]["ttft_p50_ms"] == pytest.approx(10.0)
    assert level["paths"]["litellm_2w"]["added"]["ttft_p50_ms"] == pytest.approx(15.0)
    # How many samples each percentile rests on: streams with a TTFT, gaps between reads.
    assert (studio["ttft_samples"], studio["gap_samples"]) == (10, 40)
    assert (image["ttft_samples"], image["gap_samples"]) == (10, 7 * 4 + 3 * 1)
    # Unfinished streams are counted on their own, not as losses of the streams that finished.
    assert (image["unfinished"], image["chunks_lost_finished"]) == (3, 0)
    assert image["chunks_lost"] == 3 * 3  # the three tokens each cut stream lacks
    assert (studio["unfinished"], studio["chunks_lost"]) == (0, 0)
    # CPU per stream over the whole process tree; memory per open stream; writes summed
    # over the image's two workers, with the Generate POSTs each worker took.
    res = level["resources"]["studio_image"]
    assert res["cpu_ms_per_stream"] == pytest.approx(120.0)
    assert res["peak_kib_per_stream"] == pytest.approx(20.0)
    assert res["generations"] == 10
    assert res["db_writes_per_generation"] == pytest.approx(5.0)
    assert res["generations_by_worker"] == {"11": 6, "12": 4}
    assert "db_writes" not in level["resources"]["litellm"]
    assert level["studio"] is level["resources"]["studio"]
    assert "across_workers" not in studio  # no worker named: one worker
    # Each studio shape against the LiteLLM with as many workers.
    assert level["vs_litellm"]["studio"]["ttft_p50_ms"] == pytest.approx(0.5)
    assert level["vs_litellm"]["studio_image"]["ttft_p50_ms"] == pytest.approx(2.0)


def _checks(levels: list[dict], services: dict | None = None) -> dict[tuple[str, int], dict]:
    analysed = [report.analyse_level(level, TOKENS) for level in levels]
    return {(c["target"], c["n"]): c for c in report._targets(analysed, services or {})}


def test_issue_22_targets_are_met_or_missed_from_the_measurements() -> None:
    paths = {"studio": 0.010, "studio_image": 0.030, "litellm": 0.020, "litellm_2w": 0.015}
    levels = [
        _raw_level(1, paths, count=20),
        _raw_level(10, paths),
        _raw_level(
            100,
            {"studio": 0.5, "studio_baseline": 0.6},
            cpu_s={"studio": 100 * 0.030, "studio_baseline": 100 * 0.072},
        ),
        _raw_level(500, {"studio": 2.0, "studio_image": 1.0, "litellm_2w": 3.0}),
        _raw_level(
            1000,
            {"studio": 5.0, "studio_image": 3.0},
            unfinished={"studio": 4},
            rss={"studio": (0, 1000 * 20 * 1024), "studio_image": (0, 1000 * 80 * 1024)},
        ),
    ]
    checks = _checks(levels, {"studio_baseline": {"rev": "abc123 (abc123)"}})
    ttft = "studio, embedded: added TTFT p50 ≤ LiteLLM, 1 worker"
    assert checks[(ttft, 1)]["met"] and checks[(ttft, 10)]["met"]
    assert checks[(ttft, 1)]["note"] == "ratio 0.5"
    image_ttft = "studio, image: added TTFT p50 ≤ LiteLLM, 2 workers"
    assert checks[(image_ttft, 1)]["met"] is False
    cpu = checks[("studio, embedded: CPU per stream ≤ half the baseline's", 100)]
    assert (cpu["value"], cpu["limit"], cpu["met"]) == (30.0, 36.0, True)
    assert "abc123" in cpu["note"]
    finish = "every stream finishes, 0 chunks lost"
    assert checks[(f"studio, embedded: {finish}", 500)]["met"]
    assert checks[(f"studio, image: {finish}", 1000)]["met"]
    missed = checks[(f"studio, embedded: {finish}", 1000)]
    assert missed["met"] is False and missed["note"].startswith("4 unfinished")
    half = checks[("studio, image: added TTFT p50 ≤ half of LiteLLM, 2 workers", 500)]
    assert (half["value"], half["limit"], half["met"]) == (1000.0, 1500.0, True)
    memory = "memory per open stream < 64 KiB"
    assert checks[(f"studio, embedded: {memory}", 1000)]["met"]
    assert checks[(f"studio, image: {memory}", 1000)]["met"] is False


def test_a_target_the_run_cannot_check_is_not_measured_and_says_why() -> None:
    levels = [_raw_level(100, {"studio": 0.5}, cpu_s={"studio": 100 * 0.030})]
    services = {"studio_image": {"status": "unavailable", "reason": "OperationalError: refused"}}
    checks = _checks(levels, services)
    cpu = checks[("studio, embedded: CPU per stream ≤ half the baseline's", 100)]
    assert cpu["met"] is None and cpu["value"] == 30.0
    assert "not in BENCH_PATHS" in cpu["note"] and "72 ms" in cpu["note"]
    assert checks[("studio, embedded: added TTFT p50 ≤ LiteLLM, 1 worker", 1)]["note"] == (
        "N=1 is not in this run"
    )
    levels = [_raw_level(1000, {"studio": 1.0})]
    check = _checks(levels, services)[("studio, image: every stream finishes, 0 chunks lost", 1000)]
    assert check["met"] is None
    assert check["note"] == "studio, image not measured: OperationalError: refused"
    assert all(c["met"] is not True for c in _checks([], services).values())
    # N=100 measured on the image shape alone: the embedded CPU target is not measured.
    levels = [_raw_level(100, {"studio_image": 0.5}, cpu_s={"studio_image": 100 * 0.030})]
    cpu = _checks(levels, services)[("studio, embedded: CPU per stream ≤ half the baseline's", 100)]
    assert cpu["met"] is None and cpu["value"] is None and "not in BENCH_PATHS" in cpu["note"]


def test_the_table_has_a_row_per_path_with_its_samples_and_marks_each_target() -> None:
    levels = [_raw_level(1, {"studio": 0.01, "litellm": 0.02}, count=20)]
    results = report.build(
        config={"tokens": TOKENS, "tps": 50, "first_token_delay": 0.3, "repeats": 20,
                "database_url": "sqlite:///x", "stream_seconds": 0.4,
                "timeouts_s": {"1": 60.0}},
        levels=levels,
        skipped=[],
        services={"studio": {"status": "ok", "label": "studio, embedded (1 worker, sqlite)"},
                  "litellm": {"status": "ok", "label": "LiteLLM, 1 worker", "version": "1.0"},
                  "studio_image": {"status": "unavailable", "reason": "Redis refused"}},
        studio_log_tail="",
        elapsed=1.0,
    )  # fmt: skip
    text = report.markdown(results)
    assert "| 1 | direct | 20 / 80 | *300.0 / 300.0* |" in text
    assert "| 1 | studio, embedded | 20 / 80 | 10.0 / 10.0 |" in text
    assert "| 1 | LiteLLM, 1 worker | 20 / 80 | 20.0 / 20.0 |" in text
    assert "- studio, image: **not measured**: Redis refused" in text
    # … and in the table, the row the path would have had.
    assert "| 1 | studio, image | **not measured**: Redis refused | – | – |" in text
    assert "level timeouts N=1: 60.0 s" in text
    assert "studio, embedded: added TTFT p50 ≤ LiteLLM, 1 worker at N=1: 10.0 ms " in text
    assert "— met; ratio 0.5" in text
    assert "— not measured; N=500 is not in this run" in text


def test_streams_watched_through_another_worker_are_counted() -> None:
    raw = _raw_level(10, {"studio_image": 0.03})
    for i, stream in enumerate(raw["paths"]["studio_image"]["streams"]):
        stream["post_worker"] = "11"
        stream["events_worker"] = "12" if i < 4 else "11"
    level = report.analyse_level(raw, TOKENS)
    image = level["paths"]["studio_image"]
    assert (image["across_workers"], image["workers_named"]) == (4, 10)
    results = {
        "generated": "x", "machine": {"cpus": 2, "python": "3"}, "elapsed_s": 1.0,
        "config": {"tps": 50, "first_token_delay": 0.3, "tokens": TOKENS},
        "levels": [level], "skipped_levels": [], "targets": [], "services": {},
    }  # fmt: skip
    assert "(the Redis relay): N=10: 4 of 10." in report.markdown(results)


def test_the_cpu_target_is_judged_on_the_medians_of_the_alternating_rounds() -> None:
    """One run each would say met (30 ≤ 72 / 2); the medians of three say missed (38 > 36),
    and the note lists every run."""
    level = _raw_level(
        100,
        {"studio": 0.5, "studio_baseline": 0.6},
        cpu_s={"studio": 100 * 0.030, "studio_baseline": 100 * 0.072},
    )
    level["cpu_rounds"] = {"studio": [3.0, 4.0, 3.8], "studio_baseline": [7.2, 7.0, 7.4]}
    checks = _checks([level], {"studio_baseline": {"rev": "abc123 (abc123)"}})

    cpu = checks[("studio, embedded: CPU per stream ≤ half the baseline's", 100)]

    assert (cpu["value"], cpu["limit"], cpu["met"]) == (38.0, 36.0, False)
    assert cpu["note"] == (
        "medians of 3 alternating runs; baseline abc123 (abc123): 72.0 ms; "
        "each run, studio vs baseline: 30 vs 72 / 40 vs 70 / 38 vs 74"
    )


def test_a_level_run_with_more_streams_than_its_n_says_so() -> None:
    """BENCH_MIN_SAMPLES: N=10 runs 30 streams, about 10 open at once; N=100 its own 100."""
    levels = [report.analyse_level(_raw_level(n, {"studio": 0.01}, count=c), TOKENS)
              for n, c in ((10, 30), (100, 100))]  # fmt: skip
    assert [level["streams"] for level in levels] == [30, 100]
    results = {
        "generated": "x", "machine": {"cpus": 2, "python": "3"}, "elapsed_s": 1.0,
        "config": {"tps": 50, "first_token_delay": 0.3, "tokens": TOKENS, "repeats": 20},
        "levels": levels, "skipped_levels": [], "targets": [], "services": {},
    }  # fmt: skip
    text = report.markdown(results)
    assert (
        "(N=1: 20 streams one after another; N=10: 30 streams over 3 answers' lengths, "
        "about 10 open at once)" in text
    )
    assert "N=100: 100 streams" not in text
    assert "| 10 | studio, embedded | 30 / " in text  # the samples its percentiles rest on
