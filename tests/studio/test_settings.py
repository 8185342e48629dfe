"""Production settings pass Django's deployment checks; development needs no configuration; pages
carry a nonce Content-Security-Policy."""

import asyncio
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

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
    """With the suite's own DATABASE_URL and REDIS_URL when it has them (CI: PostgreSQL and
    Redis), so the production parts are what is checked, database checks included."""
    parts = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if os.environ.get(k)}
    result = manage(
        "check",
        "--deploy",
        "--database",
        "default",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="studio.example.com",
        DEEPSEEK_API_KEY="sk-live",
        **parts,
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
    lock that every Generate and every runner save wait on (docs/decisions/)."""
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA synchronous').fetchone()[0])"
    )
    database = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    result = manage("shell", "--no-imports", "-c", code, DEBUG="true", DATABASE_URL=database)
    assert result.stdout.split() == ["wal", "1"], result.stderr  # 1 is NORMAL (FULL is 2)


def test_pages_carry_a_nonce_csp_that_their_scripts_use(client, user, workspace, demo_templates):
    """script-src is 'self' plus this response's nonce, never 'unsafe-inline'; every script
    on the page carries that nonce (inline ones would not run otherwise)."""
    import re

    client.force_login(user)

    response = client.get(workspace.get_absolute_url())

    policy = {
        name: values
        for name, *values in (d.split() for d in response["Content-Security-Policy"].split(";"))
    }
    script_src = policy["script-src"]
    nonces = [v[len("'nonce-") : -1] for v in script_src if v.startswith("'nonce-")]
    assert "'self'" in script_src and len(nonces) == 1 and len(nonces[0]) >= 16
    assert not any("unsafe" in v for v in script_src + policy["default-src"])
    assert "'unsafe-inline'" not in policy["style-src"]
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert len(scripts) >= 3  # the theme, htmx (with its SSE extension) and studio.js
    assert all(f'nonce="{nonces[0]}"' in tag for tag in scripts), scripts
    again = client.get(workspace.get_absolute_url())["Content-Security-Policy"]
    assert nonces[0] not in again  # a new nonce per response


@pytest.mark.django_db
def test_a_disallowed_host_is_a_warning_without_a_traceback(client, caplog):
    """Finding 13: scanners' bad Host headers must not fill the error log with tracebacks."""
    response = client.get("/", headers={"host": "scanner.invalid"})
    assert response.status_code == 400
    records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert records and all(r.levelno <= logging.WARNING and not r.exc_info for r in records)
    assert "scanner.invalid" in records[0].getMessage()


@pytest.mark.django_db(transaction=True)
def test_pages_load_at_once_after_the_database_dropped_its_idle_connections(client, user):
    """Issue 23: after a blip every dead pooled connection failed one request (500) before
    the pool held only live ones; the pool now tests each connection it hands out. Requests
    go through Django's ASGI handler, as the server's do: each on a thread of its own that
    borrows a connection from the pool and gives it back (the test client keeps one)."""
    from asgiref.sync import async_to_sync
    from django.db import connection

    from tests.database_blips import terminate

    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite has no server to drop an idle connection; a broken one is never handed "
            "on (tests/studio/test_sqlite.py)"
        )
    # A worker's pool as it starts: threads of earlier tests may still hold connections of
    # the suite's pool (the test client gives nothing back), and wait for none here.
    connection.close()
    connection.close_pool()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def pages(count: int, *, at_once: bool) -> list[int]:
        if at_once:
            return list(await asyncio.gather(*[_asgi_get("/", cookie) for _ in range(count)]))
        return [await _asgi_get("/", cookie) for _ in range(count)]

    assert async_to_sync(pages)(4, at_once=True) == [200] * 4
    # At least four connections in the pool, however much the pages overlapped.
    held = [connection.pool.getconn() for _ in range(4)]
    for pooled in held:
        connection.pool.putconn(pooled)
    with connection.cursor() as cursor:  # this test's own, which pytest-django's teardown uses
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()

    assert terminate(f"state = 'idle' AND pid <> {int(own)}") >= 4

    assert async_to_sync(pages)(6, at_once=False) == [200] * 6


async def _asgi_get(path: str, cookie: str) -> int:
    """One GET through Django's ASGI handler; its status code."""
    from asgiref.testing import ApplicationCommunicator
    from django.core.handlers.asgi import ASGIHandler

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(ASGIHandler(), scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    while (await communicator.receive_output(timeout=10)).get("more_body"):
        pass
    await communicator.wait(timeout=10)
    return start["status"]
