"""The benchmark's production shape end to end, tiny: the studio as the Docker image runs it
(two uvicorn workers, PostgreSQL and Redis), N=1, two short streams, measured against the
direct simulator. PostgreSQL is the test run's server (a database of the bench's own on it);
Redis a redis-server of this test's own, which the bench flushes.

Runs where the test run is on PostgreSQL (``DATABASE_URL=postgres://...``), as the
infrastructure fault suite does: the SQLite-only phases have no PostgreSQL server to point
the image shape at.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from bench import services, waits
from tests.infra_faults.conftest import RedisServer

ROOT = Path(__file__).resolve().parents[2]
DB = settings.DATABASES["default"]

if DB["ENGINE"] != "django.db.backends.postgresql":
    pytest.skip(
        "the benchmark's image shape runs the studio on PostgreSQL + Redis: this test runs "
        "where the test run is on PostgreSQL (set DATABASE_URL=postgres://...)",
        allow_module_level=True,
    )


def _image_database_url() -> str:
    """A database of the bench's own on the test run's PostgreSQL server (kept between runs:
    migrating an existing one is quick)."""
    auth = quote(DB["USER"] or "postgres")
    if DB.get("PASSWORD"):
        auth += ":" + quote(DB["PASSWORD"])
    host = f"{DB.get('HOST') or '127.0.0.1'}:{DB.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{DB['NAME']}_bench_image"


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("bench-image")
    redis = RedisServer()
    redis.start()
    try:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("BENCH_") and k not in ("DATABASE_URL", "REDIS_URL")
        }
        env |= {
            "BENCH_IMAGE_DATABASE_URL": _image_database_url(),
            "BENCH_IMAGE_REDIS_URL": redis.url,
            "BENCH_N1_REPEATS": "2",
            "BENCH_REQUESTS_DIR": str(work / "requests"),
        }
        _leave_a_user_from_an_earlier_run(env | {"DATABASE_URL": _image_database_url()})
        out = work / "latest.json"
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.run", "--quick", "--paths", "image", "--ns", "1",
             "--work-dir", str(work), "--out", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    finally:
        redis.kill()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text()) | {"requests_dir": env["BENCH_REQUESTS_DIR"]}


LEFT_OVER = "left-by-an-earlier-run"


def _leave_a_user_from_an_earlier_run(env: dict[str, str]) -> None:
    """The image shape's database as an earlier run leaves it: migrated, with its rows."""
    services.ensure_postgres_database(env["DATABASE_URL"])
    manage = [sys.executable, "manage.py"]
    plant = (
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create(username={LEFT_OVER!r})"
    )
    for command in (["migrate", "--noinput", "-v", "0"], ["shell", "-c", plant]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True)  # noqa: S603


def _image_database_rows(sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(_image_database_url().replace("postgres://", "postgresql://", 1)) as conn:
        return conn.execute(sql).fetchall()


def test_every_run_starts_from_an_empty_image_database(image_run) -> None:
    """Migrated and flushed, as the embedded shape's SQLite file is made anew: an earlier
    run's rows (which each Generate's budget check would read again) are gone."""
    assert image_run["services"]["studio_image"]["status"] == "ok"
    users = [name for (name,) in _image_database_rows("SELECT username FROM auth_user")]
    assert LEFT_OVER not in users
    assert users and all(name.startswith("bench") for name in users)


def test_the_image_shape_streams_every_token_through_two_workers(image_run) -> None:
    service = image_run["services"]["studio_image"]
    assert service["status"] == "ok", service
    assert service["workers"] == 2 and service["fresh_connections"]
    assert list(image_run["services"]) == ["studio_image"]
    [level] = image_run["levels"]
    path = level["paths"]["studio_image"]
    assert path["completed"] == path["ttft_samples"] == level["streams"] == 2
    assert (path["errors"], path["chunks_lost"], path["unfinished"]) == (0, 0, 0)
    assert path["added"]["ttft_p50_ms"] is not None
    # Every response named its worker (bench/asgi.py); the kernel picked which, so a stream's
    # SSE GET may or may not have reached another worker than its POST.
    assert path["workers_named"] == 2 and 0 <= path["across_workers"] <= 2


def test_each_worker_notes_when_its_requests_enter_and_start_answering(image_run) -> None:
    """BENCH_REQUESTS_DIR (bench/waits.py): the streams' Generate and SSE requests (the two
    measured and the one warm-up of --quick), each with its time inside the application before its
    response started."""
    noted = waits.read(Path(image_run["requests_dir"]))
    by_kind = {kind: [r for r in noted if r.kind == kind] for kind in ("generate", "events")}

    assert len(by_kind["generate"]) == len(by_kind["events"]) == 3, noted
    assert all(0 <= r.inside < 30 for r in by_kind["generate"] + by_kind["events"]), noted


def test_the_image_shape_is_measured_over_all_its_processes(image_run) -> None:
    [level] = image_run["levels"]
    res = level["resources"]["studio_image"]
    assert res["processes"] >= 3  # uvicorn's supervisor and its two workers
    assert res["cpu_ms_per_stream"] > 0 and res["rss_peak_mib"] > 0
    # The workers' write counts, summed: each generation inserted once, whichever worker.
    assert res["generations"] == 2
    assert res["db_writes"]["INSERT drafts_generation"] == 2
    assert res["db_writes"]["INSERT drafts_draftversion"] == 2
    assert res["db_writes_per_generation"] >= 3
