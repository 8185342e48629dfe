"""Docker cannot run here: check the image's recipe and its entry command outside Docker."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_every_copied_path_exists():
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY") and "--from" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source


def test_the_image_runs_as_a_non_root_user_and_serves_asgi():
    assert re.search(r"^RUN useradd .*--uid 1000 studio$", DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r"^USER 1000:1000$", DOCKERFILE, flags=re.MULTILINE)
    command = json.loads(DOCKERFILE.split("\nCMD ", 1)[1].strip())[-1]
    assert "uvicorn studio.asgi:application" in command and "--lifespan on" in command
    assert "migrate --noinput" in command and "load_demo_templates" in command


def test_the_entry_command_steps_work_with_production_settings(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "x" * 60,
        "STATIC_MANIFEST": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'image.sqlite3'}",
        "ALLOWED_HOSTS": "studio.example.com",
        # As the image sets it, to a directory not made yet: the steps must not need it.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    worker = ["db_worker", "--batch", "--no-startup-delay"]  # the compose `worker` service
    for args in (["migrate", "--noinput"], ["load_demo_templates"], worker):
        result = subprocess.run(  # noqa: S603 — our own manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert "No more tasks to run" in result.stdout + result.stderr
    (tmp_path / "prometheus" / "counter_1.db").write_bytes(b"an earlier run's")
    result = subprocess.run(  # noqa: S603 — the step right before uvicorn
        [sys.executable, "-m", "studio.audit.multiproc"], cwd=ROOT, env=env, capture_output=True
    )
    assert result.returncode == 0 and not list((tmp_path / "prometheus").iterdir())
    code = "import studio.asgi; print(callable(studio.asgi.application))"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "True", result.stderr


def test_the_workers_share_a_metrics_directory_emptied_before_they_start():
    """uvicorn runs several workers: /metrics sums them through PROMETHEUS_MULTIPROC_DIR,
    which the image sets and makes, the entry command empties and compose keeps in memory."""
    import yaml

    env = re.search(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", DOCKERFILE)
    assert env and re.search(r"WEB_CONCURRENCY=[2-9]", DOCKERFILE)
    command = json.loads(DOCKERFILE.split("\nCMD ", 1)[1].strip())[-1]
    assert "python -m studio.audit.multiproc && exec uvicorn" in command
    assert 'mkdir -p "$PROMETHEUS_MULTIPROC_DIR"' in DOCKERFILE
    studio = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["studio"]
    assert env.group(1) in studio["tmpfs"]


def test_compose_runs_the_background_worker_from_the_same_image():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    worker, studio = services["worker"], services["studio"]
    assert worker["build"] == studio["build"] == "."
    assert worker["command"][:3] == ["python", "manage.py", "db_worker"]
    # The same database (the queue lives there) and the studio first (it migrates).
    assert worker["environment"]["DATABASE_URL"] == studio["environment"]["DATABASE_URL"]
    assert "studio" in worker["depends_on"] and "db" in worker["depends_on"]
    assert "manage.py db_worker" in DOCKERFILE  # the recipe says how the image runs it


def test_hadolint_finds_nothing_to_fix():
    """Docker cannot run here; the Dockerfile is linted with hadolint (pinned, from PyPI)."""
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(  # noqa: S603 — a pinned linter on our own file
        [hadolint, "--no-color", "--failure-threshold", "info", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _entry_command() -> str:
    return json.loads(DOCKERFILE.split("\nCMD ", 1)[1].strip())[-1]


def _uvicorn_options(forwarded_allow_ips: str) -> dict:
    """uvicorn's options as the image's shell expands them (uvicorn's own parser reads them)."""
    from uvicorn.main import main

    arguments = _entry_command().split("exec uvicorn ", 1)[1]
    echo = f'exec "$PYTHON" -c "import json, sys; print(json.dumps(sys.argv[1:]))" {arguments}'
    env = {"PYTHON": sys.executable, "WEB_CONCURRENCY": "2"}
    env["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    result = subprocess.run(  # noqa: S603 — our own entry command, echoed not run
        ["sh", "-c", echo],
        env=env,
        capture_output=True,
        text=True,
        check=True,  # noqa: S607
    )
    return main.make_context("uvicorn", json.loads(result.stdout)).params


async def _client_seen(trusted: str, peer: str, forwarded_for: str) -> str:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"][0]

    scope = {
        "type": "http",
        "client": (peer, 40000),
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
    }
    await ProxyHeadersMiddleware(app, trusted_hosts=trusted)(scope, None, None)
    return seen["client"]


async def test_the_image_trusts_no_proxy_unless_told():
    """Finding 4: X-Forwarded-For from a client must not choose the address that the per-IP
    rate limits and the audit log see; FORWARDED_ALLOW_IPS (default empty) names the proxies."""
    import yaml

    assert "'*'" not in DOCKERFILE and '"*"' not in DOCKERFILE
    assert re.search(r'^\s+FORWARDED_ALLOW_IPS=""$', DOCKERFILE, flags=re.MULTILINE)
    studio = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["studio"]
    assert studio["environment"]["FORWARDED_ALLOW_IPS"] == "${FORWARDED_ALLOW_IPS:-}"

    default = _uvicorn_options("")
    assert default["proxy_headers"] and default["forwarded_allow_ips"] == ""
    forged = await _client_seen(default["forwarded_allow_ips"], "172.18.0.5", "6.6.6.6")
    assert forged == "172.18.0.5"

    behind_a_proxy = _uvicorn_options("172.18.0.0/16")["forwarded_allow_ips"]
    # The right-most address the trusted proxy added is the client, whatever came before it.
    client = await _client_seen(behind_a_proxy, "172.18.0.5", "6.6.6.6, 203.0.113.9")
    assert client == "203.0.113.9"


def test_the_workers_run_uvloop_accepting_every_waiting_connection():
    """A loaded worker's turn takes tens of milliseconds: libuv's one accept per turn would
    leave connections waiting in the kernel's queue (studio/event_loop.py)."""
    from uvicorn import Config

    options = _uvicorn_options("")
    assert options["loop"] == "studio.event_loop:new_event_loop"
    from studio.event_loop import new_event_loop

    assert Config("studio.asgi:application", loop=options["loop"]).get_loop_factory() is (
        new_event_loop
    )
