"""bench/run.py's configuration: the run's deadline, the paths, the level timeouts, and the
shapes' settings (bench/services.py)."""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest

from bench import report, run, services


def test_the_deadline_counts_from_when_make_bench_began(monkeypatch) -> None:
    """make bench sets BENCH_STARTED, so a fresh clone's installs count against the deadline."""
    monkeypatch.setenv("BENCH_STARTED", str(time.time() - 100))
    assert 430 < run.parse_config(["--deadline", "540"]).remaining() <= 440

    monkeypatch.delenv("BENCH_STARTED")
    assert 530 < run.parse_config(["--deadline", "540"]).remaining() <= 540

    monkeypatch.setenv("BENCH_STARTED", str(time.time() + 50))  # a clock set ahead: now
    assert 530 < run.parse_config(["--deadline", "540"]).remaining() <= 540


@pytest.fixture
def bench_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No BENCH_* variable from the caller's environment."""
    for key in list(os.environ):
        if key.startswith("BENCH_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_every_path_runs_by_default_and_the_quick_run_only_the_embedded_studio(bench_env) -> None:
    config = run.parse_config([])
    assert config.paths == ["studio", "studio_image", "litellm", "litellm_2w"]
    assert config.repeats == 20  # N=1: enough sequential streams for a p50
    assert config.image_workers == 2  # the Dockerfile's WEB_CONCURRENCY
    assert config.image_database_url == "postgres://postgres@127.0.0.1:5432/bench_image"
    assert config.image_redis_url == "redis://127.0.0.1:6379/9"
    quick = run.parse_config(["--quick"])
    assert quick.paths == ["studio"] and quick.ns == [1, 2] and quick.repeats == 3
    assert not quick.litellm


def test_a_level_below_the_minimum_of_samples_runs_more_streams_at_its_concurrency(
    bench_env,
) -> None:
    config = run.parse_config([])
    assert [config.count_for(n) for n in (1, 10, 100, 1000)] == [20, 30, 100, 1000]
    # N=10's 30 streams start one every 0.4 s (a tenth of an answer): about ten open at once,
    # over three answers' lengths.
    assert config.seconds_for(10) == pytest.approx(3 * 4.0 + config.stream_seconds + 2)
    assert config.seconds_for(100) == pytest.approx(4.0 + config.stream_seconds + 2)
    assert run.parse_config(["--quick"]).count_for(2) == 2  # --quick: each level its N
    bench_env.setenv("BENCH_MIN_SAMPLES", "50")
    assert run.parse_config([]).count_for(10) == 50


def test_bench_paths_picks_and_orders_the_paths(bench_env) -> None:
    bench_env.setenv("BENCH_PATHS", "litellm2, image ,embedded")
    assert run.parse_config([]).paths == ["studio", "studio_image", "litellm_2w"]
    bench_env.setenv("BENCH_LITELLM", "0")
    assert run.parse_config([]).paths == ["studio", "studio_image"]
    assert run.parse_config(["--paths", "studio,litellm"]).paths == ["studio"]


def test_the_profile_is_of_the_embedded_studio_unless_the_image_shape_is_asked_for(bench_env):
    assert run.parse_config(["--profile", "100"]).profile_path == "studio"
    bench_env.setenv("BENCH_PROFILE_PATH", "image")
    assert run.parse_config(["--profile", "100"]).profile_path == "image"
    with pytest.raises(SystemExit):
        run.parse_config(["--profile-path", "litellm"])


def test_a_cpu_profile_samples_only_working_threads_and_says_how_often(bench_env) -> None:
    assert not run.parse_config(["--profile", "100"]).profile_cpu
    assert run.parse_config(["--profile", "100", "--profile-cpu"]).profile_cpu
    bench_env.setenv("BENCH_PROFILE_CPU", "1")
    assert run.parse_config(["--profile", "100"]).profile_cpu
    raw = "thread (1): MainThread;run (a.py:1);render (drafts/panels.py:9) 5\n"

    summary = report.summarise_profile(raw, rate=run.PROFILE_CPU_RATE)

    assert summary.startswith("5 working samples at 250 Hz")


def test_a_baseline_revision_adds_its_path(bench_env) -> None:
    bench_env.setenv("BENCH_BASELINE", "HEAD~3")
    config = run.parse_config(["--paths", "studio"])
    assert config.paths == ["studio", "studio_baseline"] and config.baseline == "HEAD~3"
    bench_env.delenv("BENCH_BASELINE")
    with pytest.raises(SystemExit):  # the baseline path without a revision
        run.parse_config(["--paths", "studio,baseline"])
    with pytest.raises(SystemExit):
        run.parse_config(["--paths", "studio,nginx"])
    with pytest.raises(ValueError, match="nginx"):
        run.parse_paths("nginx", baseline=None, litellm=True)


def test_the_level_timeout_grows_with_n_unless_it_is_set(bench_env) -> None:
    config = run.parse_config([])
    assert [config.timeout_for(n) for n in (10, 100, 500, 1000)] == [60, 60, 150, 300]
    # N=1: 20 streams one after another (4.3 s each, 0.2 s apart): twice what they take.
    assert config.timeout_for(1) == 2 * config.seconds_for(1) == 2 * (20 * 4.5 + 1)
    assert config.deadline == 3600
    bench_env.setenv("BENCH_LEVEL_TIMEOUT", "45")
    config = run.parse_config([])
    assert config.timeout_for(1000) == config.timeout_for(1) == 45


def test_the_image_shape_uses_the_bench_image_knobs(bench_env, tmp_path) -> None:
    """Its own PostgreSQL and Redis (never DATABASE_URL / REDIS_URL), WEB_CONCURRENCY workers,
    the Prometheus multiprocess directory and a counts file per worker."""
    bench_env.setenv("BENCH_IMAGE_DATABASE_URL", "postgres://u:secret@db:5432/img")
    bench_env.setenv("BENCH_IMAGE_REDIS_URL", "redis://cache:6379/3")
    bench_env.setenv("BENCH_IMAGE_WORKERS", "3")
    bench_env.setenv("REDIS_URL", "redis://elsewhere/0")
    config = run.parse_config(["--work-dir", str(tmp_path)])
    bench_env.setattr(services, "ensure_postgres_database", lambda url: None)
    bench_env.setattr(services, "flush_redis", lambda url: None)
    setup = services.shape_setup(config, "studio_image", "http://127.0.0.1:1")
    env = setup["env"]
    assert env["DATABASE_URL"] == "postgres://u:secret@db:5432/img"
    assert env["REDIS_URL"] == "redis://cache:6379/3"
    assert env["WEB_CONCURRENCY"] == "3" and setup["workers"] == 3
    assert env["BENCH_WRITES_DIR"] == str(tmp_path / "writes-image")
    assert env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "prometheus-image")
    embedded = services.shape_setup(config, "studio", "http://127.0.0.1:1")["env"]
    assert "REDIS_URL" not in embedded and "BENCH_WRITES_DIR" not in embedded
    assert services.redact(config.image_database_url) == "postgres://u:***@db:5432/img"


def test_worker_write_counts_are_summed_per_worker_between_two_readings() -> None:
    before = {"11": {"INSERT a": 2}, "12": {"INSERT a": 1, "UPDATE b": 5}}
    after = {"11": {"INSERT a": 4}, "12": {"INSERT a": 1, "UPDATE b": 9}, "13": {"INSERT a": 1}}
    assert services.writes_delta(before, after) == {
        "11": {"INSERT a": 2},
        "12": {"UPDATE b": 4},
        "13": {"INSERT a": 1},
    }


def test_every_knob_the_bench_reads_is_in_the_knob_table() -> None:
    """docs/benchmark.md's knob table stays true: each BENCH_* variable bench/ reads is a row
    (BENCH_GENERATION_* as one; BENCH_STARTED, which make sets, under BENCH_DEADLINE)."""
    root = Path(__file__).resolve().parents[2]
    code = "".join((root / "bench" / f).read_text() for f in ("run.py", "services.py"))
    read = set(re.findall(r"\bBENCH_[A-Z0-9_]*[A-Z0-9]\b", code)) - {"BENCH_DIR"}
    read -= {"BENCH_WRITES_DIR"}  # set by the harness for the image shape's workers, not a knob
    page = (root / "docs" / "benchmark.md").read_text()
    table = page[page.index("### Knobs") : page.index("### Definitions")]
    rows = set(re.findall(r"^\| `(BENCH_[A-Z0-9_*]+)`", table, re.MULTILINE))
    assert {"BENCH_GENERATION_*", "BENCH_PATHS", "BENCH_IMAGE_DATABASE_URL"} <= rows
    missing = {k for k in read if k not in rows and not k.startswith("BENCH_GENERATION_")}
    assert missing == {"BENCH_STARTED"}
    assert "`BENCH_STARTED`" in table


def test_n100_measures_the_studio_and_the_baseline_in_alternating_rounds(
    bench_env, monkeypatch
) -> None:
    """BENCH_CPU_ROUNDS (3 by default): after the level's own runs, the embedded studio and
    the baseline run N=100 again, the baseline first in the second round, each run's CPU kept.
    Only with both paths running, only at N=100."""
    assert run.parse_config([]).cpu_rounds == 3
    bench_env.setenv("BENCH_CPU_ROUNDS", "4")
    config = run.parse_config(["--baseline", "HEAD", "--paths", "studio,baseline"])
    order: list[str] = []
    cpu = iter(range(10, 100))

    def loadgen(config, name, spec):
        order.append(name)
        return {"wall_s": 1.0, "streams": []}

    @contextlib.contextmanager
    def sampling(pid):
        stats: dict[str, float] = {}
        yield stats
        stats["cpu_s"] = float(next(cpu))

    monkeypatch.setattr(run, "run_loadgen", loadgen)
    monkeypatch.setattr(run, "sampling", sampling)
    monkeypatch.setattr(run, "settle", lambda pid: None)
    monkeypatch.setattr(run, "db_writes", lambda shape: {})
    shape = {"status": "ok", "kind": "studio", "pid": 1, "url": "", "plan": {"version_id": 1}}
    shapes = {
        "studio": shape | {"label": "studio, embedded", "users": []},
        "studio_baseline": shape | {"label": "studio, baseline", "users": []},
    }
    streams = [{"topic": "t", "messages": []}] * 100
    ctx = {"plan": {"streams": streams, "params": {}}, "simulator_url": "", "shapes": shapes}
    monkeypatch.setattr(run, "chat_body", lambda params: {"thinking": {}})

    level = run.run_level(config, 100, ctx, quiet=True)

    assert order == [
        "direct-100",
        "studio-100",
        "studio_baseline-100",
        "studio_baseline-100-round-2",
        "studio-100-round-2",
        "studio-100-round-3",
        "studio_baseline-100-round-3",
        "studio_baseline-100-round-4",
        "studio-100-round-4",
    ]
    # CPU seconds in the order they were measured: 10, 11 the level's own, then the rounds.
    assert level["cpu_rounds"] == {
        "studio": [10.0, 13.0, 14.0, 17.0],
        "studio_baseline": [11.0, 12.0, 15.0, 16.0],
    }
    order.clear()
    assert "cpu_rounds" not in run.run_level(config, 10, ctx, quiet=True)
    del ctx["shapes"]["studio_baseline"]
    assert "cpu_rounds" not in run.run_level(config, 100, ctx, quiet=True)
