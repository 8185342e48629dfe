"""Production settings pass Django's deployment checks; development needs no configuration."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(  # noqa: S603 — our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="studio.example.com",
        DEEPSEEK_API_KEY="sk-live",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_without_an_api_key_the_studio_uses_the_offline_simulator():
    code = "from django.conf import settings as s; print(s.DEEPSEEK_OFFLINE, s.DEEPSEEK_BASE_URL)"
    result = manage("shell", "--no-imports", "-c", code, DEBUG="true")
    assert result.stdout.split() == ["True", "http://127.0.0.1:8001"]


def test_sqlite_runs_in_wal_mode_without_an_fsync_per_commit(tmp_path):
    """WAL with synchronous=NORMAL: a commit does not hold the write lock for an fsync, the
    lock that every Generate and every runner save wait on (see the README's benchmark)."""
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA synchronous').fetchone()[0])"
    )
    database = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    result = manage("shell", "--no-imports", "-c", code, DEBUG="true", DATABASE_URL=database)
    assert result.stdout.split() == ["wal", "1"], result.stderr  # 1 is NORMAL (FULL is 2)
