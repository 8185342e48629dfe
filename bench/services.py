"""The processes ``bench/run.py`` measures, and how it measures them.

- the offline simulator;
- the studio in three shapes (:data:`STUDIO_SHAPES`): *embedded*, as ``make run`` starts it (one
  uvicorn worker, SQLite); *image*, as the Dockerfile's CMD runs it (``WEB_CONCURRENCY`` uvicorn
  workers, PostgreSQL and Redis, the Redis relay carrying streams between workers); *baseline*,
  the embedded shape of another git revision (``BENCH_BASELINE``), exported with ``git archive``
  and run from there with the same virtualenv and a SQLite file of its own;
- the LiteLLM proxy with one and with two workers (``--num_workers``).

A shape that cannot start (PostgreSQL or Redis unreachable, a revision that does not export,
LiteLLM that does not install) is reported with the reason and the rest of the bench runs.
CPU and memory are those of the whole process tree: a supervisor and all its workers, summed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from bench.run import Config

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LITELLM_VENV = BENCH_DIR / ".litellm-venv"
LITELLM_REQUIREMENTS = BENCH_DIR / "litellm-requirements.txt"
MODEL = "deepseek-flash"

# The studio's shapes and LiteLLM's, in the order a level runs them (after "direct").
STUDIO_SHAPES = ("studio", "studio_image", "studio_baseline")
LITELLM_SHAPES = {"litellm": 1, "litellm_2w": 2}


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)  # noqa: T201 — a command-line tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """A child process with its output in a log file, stopped (by its pid) on exit."""

    def __init__(
        self, name: str, cmd: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
    ) -> None:
        self.name, self.log = name, log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 — our own fixed command lines
            cmd, env=env, cwd=cwd, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, url: str, timeout: float, auth: str = "") -> None:
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log}\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {url} in {timeout:.0f} s: see {self.log}")

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


def start_simulator(config: Config, stack: contextlib.ExitStack) -> tuple[Service, str]:
    """The offline DeepSeek simulator on a free loopback port (not yet ready), and its URL."""
    port = free_port()
    simulator = Service(
        "simulator",
        [sys.executable, "-m", "studio.deepseek.simulator", "--host", "127.0.0.1", "--port",
         str(port), "--tps", f"{config.tps:g}", "--first-token-delay",
         f"{config.first_token_delay:g}", "--seed", "0", "--log-level", "warning"],
        dict(os.environ),
        config.work_dir / "simulator.log",
    )  # fmt: skip
    stack.callback(simulator.stop)
    return simulator, f"http://127.0.0.1:{port}"


def start_studio(
    config: Config,
    env: dict[str, str],
    stack: contextlib.ExitStack,
    app: str = "bench.asgi",
    *,
    name: str = "studio",
    workers: int = 1,
    cwd: Path = ROOT,
) -> tuple[Service, str]:
    """The studio under uvicorn (``app``'s ``application``), not yet ready, and its URL. With
    several workers, uvicorn's command line is the Dockerfile's (``--workers``, a 2 s graceful
    shutdown)."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", f"{app}:application", "--host", "127.0.0.1",
           "--port", str(port), "--lifespan", "on", "--no-access-log",
           "--log-level", "warning"]  # fmt: skip
    if (cwd / "studio" / "event_loop.py").exists():  # a baseline revision may predate it
        cmd += ["--loop", "studio.event_loop:new_event_loop"]
    if workers > 1:
        cmd += ["--workers", str(workers), "--timeout-graceful-shutdown", "2"]
    studio = Service(name, cmd, env, config.work_dir / f"{name}.log", cwd=cwd)
    stack.callback(studio.stop)
    return studio, f"http://127.0.0.1:{port}"


def studio_env(config: Config, simulator_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPSEEK_", "GENERATION_"))}
    for key in ("REDIS_URL", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", "BENCH_WRITES_DIR"):
        env.pop(key, None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    # Settings the bench controls; GENERATION_* pass through when given as BENCH_GENERATION_*.
    env |= {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": config.database_url,
        "DEEPSEEK_API_KEY": "sk-bench",
        "DEEPSEEK_BASE_URL": simulator_url,
        # The pool must hold every concurrent generation (docs/configuration.md).
        "DEEPSEEK_MAX_CONNECTIONS": str(max(config.ns) + 50),
    }
    for key, value in os.environ.items():
        if key.startswith("BENCH_GENERATION_"):
            env[key.removeprefix("BENCH_")] = value
    return env


def prepare_database(
    config: Config, env: dict[str, str], streams: int, *, cwd: Path = ROOT
) -> dict[str, Any]:
    """Migrate the database ``env`` names, empty, and create the template, users and
    per-stream messages, with the code checked out at ``cwd``.

    Every run starts from an empty database: a SQLite file is made anew, another database
    (the image shape's PostgreSQL) is migrated and then flushed. Kept from run to run, the
    image shape's tables grew with every run of the day, and each Generate's budget check
    (the user's usage since midnight) read more rows than the embedded shape's did."""
    url = env["DATABASE_URL"]
    sqlite = url.startswith("sqlite:///")
    if sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    py = sys.executable
    for command in (["migrate"], *([] if sqlite else [["flush"]])):
        subprocess.run(  # noqa: S603
            [py, "manage.py", *command, "--noinput", "-v", "0"], cwd=cwd, env=env, check=True
        )
    tag = hashlib.sha256(f"{cwd}|{url}".encode()).hexdigest()[:8]
    request = config.work_dir / f"setup-request-{tag}.json"
    plan_file = config.work_dir / f"plan-{tag}.json"
    password = secrets.token_urlsafe(16)
    setup = {"tokens": config.tokens, "users": config.users, "streams": streams}
    request.write_text(json.dumps(setup | {"password": password}))
    subprocess.run(  # noqa: S603
        [py, "-m", "bench.studio_side", str(request), str(plan_file)], cwd=cwd, env=env, check=True
    )
    plan = json.loads(plan_file.read_text())
    plan["password"] = password
    # bench/campaign.py and bench/trace.py read the plan from here.
    shutil.copyfile(plan_file, config.work_dir / "plan.json")
    return plan


def log_in(base_url: str, username: str, password: str) -> dict[str, str]:
    """A real login through /accounts/login/: the session and CSRF cookies it sets."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.get("/accounts/login/").raise_for_status()
        response = client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
        )
        if response.status_code != 302 or "sessionid" not in client.cookies:
            raise RuntimeError(f"login as {username} failed: HTTP {response.status_code}")
        return {"sessionid": client.cookies["sessionid"], "csrftoken": client.cookies["csrftoken"]}


# --- The studio's shapes ----------------------------------------------------------------------


def ensure_postgres_database(url: str) -> None:
    """Create the database ``url`` names, on its server, if it is missing."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise RuntimeError(f"{url} names no database")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def redact(url: str) -> str:
    """A database or Redis URL without its password, for the report."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def export_revision(rev: str, work_dir: Path) -> tuple[str, Path]:
    """``rev``'s tree, exported once into ``work_dir/baseline-<sha>`` (git archive: no
    worktree is registered), and its full commit id."""
    sha = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    target = work_dir / f"baseline-{sha[:12]}"
    if not (target / "manage.py").exists():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.Popen(  # noqa: S603
            ["git", "archive", "--format=tar", sha],
            cwd=ROOT,
            stdout=subprocess.PIPE,  # noqa: S607
        )
        subprocess.run(["tar", "-x", "-C", str(partial)], stdin=archive.stdout, check=True)  # noqa: S607
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {sha} failed")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return sha, target


def shape_setup(config: Config, name: str, simulator_url: str) -> dict[str, Any]:
    """What a shape runs: its label, environment, checkout and worker count (no side effects
    beyond preparing PostgreSQL, Redis or the baseline's checkout)."""
    env = studio_env(config, simulator_url)
    if name == "studio":
        db = config.database_url.split(":", 1)[0]
        redis_part = " + Redis" if env.get("REDIS_URL") else ""
        return {"label": f"studio, embedded (1 worker, {db}{redis_part})", "env": env,
                "cwd": ROOT, "workers": 1, "app": "bench.asgi"}  # fmt: skip
    if name == "studio_image":
        ensure_postgres_database(config.image_database_url)
        flush_redis(config.image_redis_url)
        prometheus = config.work_dir / "prometheus-image"
        writes = config.work_dir / "writes-image"
        for directory in (prometheus, writes):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        env |= {
            "DATABASE_URL": config.image_database_url,
            "REDIS_URL": config.image_redis_url,
            "WEB_CONCURRENCY": str(config.image_workers),
            "PROMETHEUS_MULTIPROC_DIR": str(prometheus),
            "BENCH_WRITES_DIR": str(writes),
        }
        label = f"studio, image ({config.image_workers} workers, PostgreSQL + Redis)"
        return {"label": label, "env": env, "cwd": ROOT, "workers": config.image_workers,
                "app": "bench.asgi", "writes_dir": writes}  # fmt: skip
    if name == "studio_baseline":
        sha, cwd = export_revision(config.baseline or "HEAD", config.work_dir)
        env["DATABASE_URL"] = f"sqlite:///{config.work_dir / 'baseline.sqlite3'}"
        app = "bench.asgi" if (cwd / "bench" / "asgi.py").exists() else "studio.asgi"
        label = f"studio at {config.baseline} ({sha[:12]}), embedded"
        return {"label": label, "env": env, "cwd": cwd, "workers": 1, "app": app,
                "rev": f"{config.baseline} ({sha[:12]})", "sha": sha}  # fmt: skip
    raise ValueError(name)


def start_studio_shape(
    config: Config, name: str, simulator_url: str, streams: int, stack: contextlib.ExitStack
) -> dict[str, Any]:
    """Prepare, start and log in to one studio shape: a dict the level runner uses (``status``
    ``ok``), or ``status`` ``unavailable`` with the reason. The embedded shape's failure is the
    bench's (its plan is every path's prompts)."""
    try:
        setup = shape_setup(config, name, simulator_url)
        plan = prepare_database(config, setup["env"], streams, cwd=setup["cwd"])
        service, url = start_studio(
            config, setup["env"], stack, setup["app"], name=name, workers=setup["workers"],
            cwd=setup["cwd"],
        )  # fmt: skip
        service.wait_ready(f"{url}/healthz", timeout=90)
        if setup.get("writes_dir"):
            wait_for_workers(service, setup["workers"], setup["writes_dir"], timeout=60)
        say(f"{setup['label']}: logging in {len(plan['users'])} bench users")
        users = [{**u, **log_in(url, u["username"], plan["password"])} for u in plan["users"]]
    except Exception as exc:
        if name == "studio":
            raise
        message = f"{type(exc).__name__}: {exc}"
        say(f"{name} is NOT measured: {message}")
        return {"status": "unavailable", "reason": message[:2000], "kind": "studio"}
    info = {k: v for k, v in setup.items() if k not in ("env", "cwd")}
    return info | {
        "status": "ok",
        "kind": "studio",
        "url": url,
        "pid": service.pid,
        "service": service,
        "plan": plan,
        "users": users,
        # Every request on a fresh connection where there are several workers, so that the
        # kernel hands each one to any worker: a stream's POST and its SSE GET may land on
        # different workers (the Redis relay's job), as behind a load balancer.
        "fresh_connections": setup["workers"] > 1,
    }


def worker_pids(pid: int) -> list[int]:
    import psutil

    with contextlib.suppress(psutil.Error):
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    return []


def wait_for_workers(service: Service, workers: int, writes_dir: Path, timeout: float) -> None:
    """Until each of the supervisor's workers has loaded bench/asgi.py (its counts file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = [p for p in worker_pids(service.pid) if (writes_dir / f"{p}.json").exists()]
        if len(ready) >= workers:
            return
        if service.proc.poll() is not None:
            raise RuntimeError(f"{service.name} exited: see {service.log}\n{service.tail()}")
        time.sleep(0.2)
    raise RuntimeError(f"{service.name}: {workers} workers not ready in {timeout:.0f} s")


def db_writes(shape: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The INSERT/UPDATE/DELETE counts so far, per worker (pid → table → count)."""
    if shape.get("writes_dir"):
        return _worker_writes(shape["pid"], shape["writes_dir"])
    if shape.get("app") != "bench.asgi":
        return {}  # a baseline without bench/asgi.py counts nothing
    response = httpx.get(f"{shape['url']}/__bench__/db-writes", timeout=30)
    return {str(shape["pid"]): response.json()}


def _worker_writes(pid: int, directory: Path, timeout: float = 10) -> dict[str, dict[str, int]]:
    """Ask every worker (SIGUSR1) for its counts file, and read each once it is rewritten."""
    before: dict[int, int] = {}
    for child in worker_pids(pid):
        file = directory / f"{child}.json"
        if file.exists():
            before[child] = json.loads(file.read_text())["dumps"]
            os.kill(child, signal.SIGUSR1)
    out: dict[str, dict[str, int]] = {}
    deadline = time.monotonic() + timeout
    while before and time.monotonic() < deadline:
        for child, dumps in list(before.items()):
            data = json.loads((directory / f"{child}.json").read_text())
            if data["dumps"] > dumps:
                out[str(child)] = data["writes"]
                del before[child]
        time.sleep(0.02)
    if before:
        raise RuntimeError(f"workers {sorted(before)} did not report their database writes")
    return out


def writes_delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """Per worker, the counts that changed between two :func:`db_writes`."""
    out = {}
    for worker, counts in after.items():
        old = before.get(worker, {})
        changed = {k: v - old.get(k, 0) for k, v in counts.items() if v != old.get(k, 0)}
        if changed:
            out[worker] = changed
    return out


# --- LiteLLM -------------------------------------------------------------------------------


def ensure_litellm() -> Path:
    """The proxy's own virtualenv (bench/.litellm-venv), installed from the pinned file."""
    digest = hashlib.sha256(LITELLM_REQUIREMENTS.read_bytes()).hexdigest()[:12]
    stamp = LITELLM_VENV / f".installed-{digest}"
    exe = LITELLM_VENV / "bin" / "litellm"
    if stamp.exists() and exe.exists():
        return exe
    say("installing the LiteLLM proxy into bench/.litellm-venv (first run only)…")
    if not (LITELLM_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)  # noqa: S603
    pip = [str(LITELLM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    done = subprocess.run(  # noqa: S603
        [*pip, "-r", str(LITELLM_REQUIREMENTS)], capture_output=True, text=True, timeout=420
    )
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if not ln.startswith("WARNING: Location")]
        raise RuntimeError("pip install failed: " + " | ".join(lines[-4:]))
    for old in LITELLM_VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return exe


def start_litellms(
    config: Config, names: list[str], simulator_url: str, stack: contextlib.ExitStack
) -> dict[str, dict[str, Any]]:
    """Install LiteLLM once and start one proxy per name (its worker count from
    :data:`LITELLM_SHAPES`); on any failure say why and let the rest of the bench run."""
    if not names:
        return {}
    try:
        exe = ensure_litellm()
        version = subprocess.run(  # noqa: S603
            [str(LITELLM_VENV / "bin" / "python"), "-c", "import importlib.metadata as m;"
             "print(m.version('litellm'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        say(f"LiteLLM is NOT measured: {message}")
        return {n: {"status": "unavailable", "reason": message[:2000]} for n in names}
    return {name: start_litellm(config, name, exe, version, simulator_url, stack) for name in names}


def start_litellm(
    config: Config,
    name: str,
    exe: Path,
    version: str,
    simulator_url: str,
    stack: contextlib.ExitStack,
) -> dict[str, Any]:
    workers = LITELLM_SHAPES[name]
    label = f"LiteLLM, {workers} worker{'s' if workers > 1 else ''}"
    try:
        port = free_port()
        cfg = config.work_dir / "litellm.yaml"
        cfg.write_text(
            "model_list:\n"
            f"  - model_name: {MODEL}\n"
            "    litellm_params:\n"
            f"      model: openai/{MODEL}\n"
            f"      api_base: {simulator_url}/v1\n"
            "      api_key: sk-bench\n"
            "litellm_settings:\n"
            "  telemetry: false\n"
        )
        master_key = "sk-bench-" + secrets.token_urlsafe(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS"))}
        env |= {
            "LITELLM_MASTER_KEY": master_key,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "ERROR",
            "NO_DOCS": "True",
        }
        cmd = [str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--num_workers", str(workers)]
        service = Service(label, cmd, env, config.work_dir / f"{name}.log")
        stack.callback(service.stop)
        service.wait_ready(f"http://127.0.0.1:{port}/health/liveliness", timeout=120)
        if workers > 1:  # the health answer came from one worker; the others load alongside
            deadline = time.monotonic() + 60
            while len(worker_pids(service.pid)) < workers and time.monotonic() < deadline:
                time.sleep(0.2)
        return {
            "status": "ok",
            "kind": "openai",
            "label": label,
            "version": version,
            "workers": workers,
            "url": f"http://127.0.0.1:{port}/v1",
            "api_key": master_key,
            "pid": service.pid,
        }
    except Exception as exc:  # the bench must still report everything else
        message = f"{type(exc).__name__}: {exc}"
        say(f"{label} is NOT measured: {message}")
        return {"status": "unavailable", "label": label, "reason": message[:2000]}


# --- Measuring a process tree -------------------------------------------------------------------


def _tree(pid: int) -> list[Any]:
    import psutil

    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def _cpu(proc: Any) -> float:
    times = proc.cpu_times()
    return times.user + times.system


@contextlib.contextmanager
def sampling(pid: int | None) -> Iterator[dict[str, float]]:
    """CPU seconds and peak resident memory of a process and all its children (a uvicorn
    supervisor and its workers, summed) while the block runs."""
    import psutil

    stats: dict[str, float] = {}
    if pid is None:
        yield stats
        return
    cpu_before: dict[int, float] = {}
    rss = 0
    for proc in _tree(pid):
        with contextlib.suppress(psutil.Error):
            cpu_before[proc.pid] = _cpu(proc)
            rss += proc.memory_info().rss
    stats["rss_before"] = stats["rss_peak"] = rss
    stats["processes"] = len(cpu_before)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            with contextlib.suppress(psutil.Error):
                total = sum(p.memory_info().rss for p in _tree(pid))
                stats["rss_peak"] = max(stats["rss_peak"], total)

    thread = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    thread.start()
    try:
        yield stats
    finally:
        stop.set()
        thread.join()
        cpu = 0.0
        with contextlib.suppress(psutil.Error):  # a worker started meanwhile counts from zero
            for proc in _tree(pid):
                with contextlib.suppress(psutil.Error):
                    cpu += _cpu(proc) - cpu_before.get(proc.pid, 0.0)
        stats["cpu_s"] = cpu
        stats["wall_s"] = time.perf_counter() - started


def settle(pid: int, limit: float = 20.0) -> None:
    """Wait until a process tree is idle again, so one path's stragglers don't load the next."""
    import psutil

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            before = sum(_cpu(p) for p in _tree(pid))
            time.sleep(0.3)
            if sum(_cpu(p) for p in _tree(pid)) - before < 0.3 * 0.05:  # under 5 % of a core
                return
        except psutil.Error:  # a process of the tree came or went: measure again
            time.sleep(0.1)
