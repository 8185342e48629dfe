"""The streaming benchmark: ``make bench`` (or ``python -m bench.run``).

Starts, on loopback only, the offline DeepSeek simulator (fixed token rate and first-token
delay), the studio under uvicorn (one worker, production settings, its own database) and,
when it can be installed, the LiteLLM proxy in front of the same simulator. Then, for each N,
a load generator process (``bench/loadgen.py``) opens N concurrent streams three ways:
directly against the simulator (the physical limit), through the studio's real endpoints as
logged-in users, and through LiteLLM. ``bench/report.py`` turns what arrived when into the
numbers of issue 8 and writes ``bench/results/latest.json``, the chart and the generated
section of ``docs/benchmark.md`` (never README.md).

Everything is bounded: each level has a timeout and the whole run a deadline, after which the
remaining levels are skipped and the report says so.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.loadgen import raise_file_limit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
LITELLM_VENV = BENCH_DIR / ".litellm-venv"
LITELLM_REQUIREMENTS = BENCH_DIR / "litellm-requirements.txt"
MODEL = "deepseek-flash"


@dataclass
class Config:
    ns: list[int]
    tokens: int
    tps: float
    first_token_delay: float
    ramp: float | None  # seconds over which a level's streams start; None: one stream's length
    level_timeout: float
    deadline: float
    users: int
    repeats: int  # N=1 runs this many streams one after another
    profile: int | None  # an N to profile the studio at (py-spy), after the measured levels
    litellm: bool
    work_dir: Path
    out: Path
    chart: bool
    report: bool  # rewrite docs/benchmark.md's generated section
    database_url: str
    quick: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def stream_seconds(self) -> float:
        return self.first_token_delay + self.tokens / self.tps

    def count_for(self, n: int) -> int:
        return self.repeats if n == 1 else n

    def seconds_for(self, n: int) -> float:
        """Roughly how long one path of a level takes when nothing is overloaded."""
        if n == 1:
            return self.repeats * (self.stream_seconds + 0.2) + 1
        return self.ramp_for(n) + self.stream_seconds + 2

    def ramp_for(self, n: int) -> float:
        if n == 1:
            return 0.0
        return self.tokens / self.tps if self.ramp is None else self.ramp

    def remaining(self) -> float:
        return self.deadline - (time.monotonic() - self.started)


def parse_config(argv: list[str]) -> Config:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="N=1,2, short fast answers, no LiteLLM"
    )
    parser.add_argument("--ns", default=env("BENCH_NS", "1,10,100,500,1000"))
    parser.add_argument("--tokens", type=int, default=int(env("BENCH_TOKENS", "200")))
    parser.add_argument("--tps", type=float, default=None, help="BENCH_TPS; 50 (--quick: 500)")
    parser.add_argument(
        "--first-token-delay", type=float, default=float(env("BENCH_FIRST_TOKEN_DELAY", "0.3"))
    )
    parser.add_argument("--ramp", type=float, default=env("BENCH_RAMP"))
    parser.add_argument(
        "--level-timeout", type=float, default=float(env("BENCH_LEVEL_TIMEOUT", "60"))
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=float(env("BENCH_DEADLINE", "540")),
        help="seconds for the whole run, counted from BENCH_STARTED (epoch s) when it is set",
    )
    parser.add_argument("--users", type=int, default=int(env("BENCH_USERS", "10")))
    parser.add_argument("--repeats", type=int, default=int(env("BENCH_N1_REPEATS", "3")))
    parser.add_argument(
        "--profile", type=int, default=int(env("BENCH_PROFILE", "0")), help="0: no profile"
    )
    parser.add_argument(
        "--no-litellm", action="store_true", default=env("BENCH_LITELLM", "1") == "0"
    )
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / ".work")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument("--no-report", action="store_true", help="leave docs/benchmark.md as it is")
    args = parser.parse_args(argv)
    if args.tps is None:  # --quick streams ten times faster: the same checks in less time
        args.tps = float(env("BENCH_TPS", "500" if args.quick else "50"))
    if args.quick:
        args.ns = env("BENCH_NS", "1,2")
        args.tokens = int(env("BENCH_TOKENS", "30"))
        args.no_litellm = args.no_chart = args.no_report = True
        args.users = min(args.users, 2)
    ns = sorted({int(n) for n in str(args.ns).split(",") if n.strip()})
    if not ns or ns[0] < 1:
        parser.error("--ns / BENCH_NS must be positive integers, e.g. 1,10,100")
    work = args.work_dir.resolve()
    return Config(
        ns=ns,
        tokens=args.tokens,
        tps=args.tps,
        first_token_delay=args.first_token_delay,
        ramp=float(args.ramp) if args.ramp not in (None, "") else None,
        level_timeout=args.level_timeout,
        deadline=args.deadline,
        users=max(1, args.users),
        repeats=max(1, args.repeats),
        profile=int(args.profile) if args.profile else None,
        litellm=not args.no_litellm,
        work_dir=work,
        out=args.out.resolve(),
        chart=not args.no_chart,
        report=not args.no_report,
        # Never the studio's own DATABASE_URL: the bench migrates and fills its database.
        database_url=env("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite3'}",
        quick=args.quick,
        started=_started(env("BENCH_STARTED")),
    )


def _started(since_epoch: str | None) -> float:
    """The run's start on the monotonic clock: now, or when ``make bench`` began (it sets
    BENCH_STARTED), so that the deadline also covers a fresh clone's installs."""
    now = time.monotonic()
    if not since_epoch:
        return now
    return now - min(max(0.0, time.time() - float(since_epoch)), 3600.0)


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)  # noqa: T201 — a command-line tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """A child process with its output in a log file, stopped (by its pid) on exit."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 — our own fixed command lines
            cmd, env=env, cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT
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
    config: Config, env: dict[str, str], stack: contextlib.ExitStack, app: str = "bench.asgi"
) -> tuple[Service, str]:
    """The studio under uvicorn (``app``'s ``application``), not yet ready, and its URL."""
    port = free_port()
    studio = Service(
        "studio",
        [sys.executable, "-m", "uvicorn", f"{app}:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "on", "--no-access-log", "--log-level", "warning"],
        env,
        config.work_dir / "studio.log",
    )  # fmt: skip
    stack.callback(studio.stop)
    return studio, f"http://127.0.0.1:{port}"


def studio_env(config: Config, simulator_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPSEEK_", "GENERATION_"))}
    env.pop("REDIS_URL", None)
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


def prepare_database(config: Config, env: dict[str, str], streams: int) -> dict[str, Any]:
    """Migrate the bench database and create the template, users and per-stream messages."""
    if config.database_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(config.database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    py = sys.executable
    subprocess.run(  # noqa: S603
        [py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    request = config.work_dir / "setup-request.json"
    plan_file = config.work_dir / "plan.json"
    password = secrets.token_urlsafe(16)
    setup = {"tokens": config.tokens, "users": config.users, "streams": streams}
    request.write_text(json.dumps(setup | {"password": password}))
    subprocess.run(  # noqa: S603
        [py, "-m", "bench.studio_side", str(request), str(plan_file)], cwd=ROOT, env=env, check=True
    )
    plan = json.loads(plan_file.read_text())
    plan["password"] = password
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


def start_litellm(config: Config, simulator_url: str, stack: contextlib.ExitStack) -> dict:
    """Install and start LiteLLM; on any failure say why and let the rest of the bench run."""
    info: dict[str, Any] = {"status": "disabled"}
    if not config.litellm:
        return info
    try:
        exe = ensure_litellm()
        version = subprocess.run(  # noqa: S603
            [str(LITELLM_VENV / "bin" / "python"), "-c", "import importlib.metadata as m;"
             "print(m.version('litellm'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
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
        cmd += ["--num_workers", "1"]
        service = Service("LiteLLM", cmd, env, config.work_dir / "litellm.log")
        stack.callback(service.stop)
        service.wait_ready(f"http://127.0.0.1:{port}/health/liveliness", timeout=120)
        return {
            "status": "ok",
            "version": version,
            "url": f"http://127.0.0.1:{port}/v1",
            "api_key": master_key,
            "pid": service.pid,
        }
    except Exception as exc:  # the bench must still report everything else
        message = f"{type(exc).__name__}: {exc}"
        say(f"LiteLLM is NOT measured: {message}")
        return {"status": "unavailable", "reason": message[:2000]}


# --- Levels ----------------------------------------------------------------------------------


@contextlib.contextmanager
def sampling(pid: int | None) -> Iterator[dict[str, float]]:
    """CPU seconds and peak resident memory of a process while the block runs."""
    import psutil

    stats: dict[str, float] = {}
    if pid is None:
        yield stats
        return
    proc = psutil.Process(pid)
    before = proc.cpu_times()
    stats["rss_before"] = stats["rss_peak"] = proc.memory_info().rss
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            with contextlib.suppress(psutil.Error):
                stats["rss_peak"] = max(stats["rss_peak"], proc.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    thread.start()
    try:
        yield stats
    finally:
        stop.set()
        thread.join()
        after = proc.cpu_times()
        stats["cpu_s"] = (after.user - before.user) + (after.system - before.system)
        stats["wall_s"] = time.perf_counter() - started


def settle(pid: int, limit: float = 20.0) -> None:
    """Wait until a process is idle again, so one level's stragglers don't load the next."""
    import psutil

    proc = psutil.Process(pid)
    deadline = time.monotonic() + limit
    proc.cpu_percent(None)
    while time.monotonic() < deadline:
        if proc.cpu_percent(0.3) < 5:
            return


def run_loadgen(config: Config, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    # Each path gets the level timeout, cut short by what is left of the run's deadline.
    spec = {"timeout": min(config.level_timeout, max(10.0, config.remaining() - 20))} | spec
    spec_file = config.work_dir / f"spec-{name}.json"
    out_file = config.work_dir / f"result-{name}.json"
    spec_file.write_text(json.dumps(spec))
    out_file.unlink(missing_ok=True)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.loadgen", str(spec_file), str(out_file)],
        cwd=ROOT,
        check=True,
        timeout=spec["timeout"] + 60,
    )
    return json.loads(out_file.read_text())


def db_writes(studio_url: str) -> dict[str, int]:
    return httpx.get(f"{studio_url}/__bench__/db-writes", timeout=30).json()


def run_level(
    config: Config, n: int, ctx: dict[str, Any], *, quiet: bool = False
) -> dict[str, Any]:
    """One N: direct, then the studio, then LiteLLM, with the same prompts."""
    log = (lambda _: None) if quiet else say
    plan = ctx["plan"]
    streams = [
        {"topic": s["topic"], "messages": s["messages"]}
        for s in plan["streams"][: config.count_for(n)]
    ]
    params = plan["params"]
    # The body the studio's client sends (studio/deepseek/client.py, _chat_body).
    body = {
        "model": params["model"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": params.get("max_tokens"),
        "thinking": {"type": "enabled" if params.get("thinking") else "disabled"},
    }
    if not params.get("thinking"):
        body["temperature"] = params.get("temperature")
    common = {"n": n, "count": config.count_for(n), "ramp": config.ramp_for(n), "streams": streams}
    level: dict[str, Any] = {"n": n, "count": common["count"], "ramp_s": common["ramp"]}
    level["paths"] = {}

    log(f"N={n}: direct to the simulator")
    direct_spec = {**common, "mode": "openai", "base_url": ctx["simulator_url"]}
    level["paths"]["direct"] = run_loadgen(
        config, f"direct-{n}", {**direct_spec, "api_key": "sk-bench", "body": body}
    )

    log(f"N={n}: through the studio")
    studio_spec = {
        **common,
        "mode": "studio",
        "base_url": ctx["studio_url"],
        "version_id": plan["version_id"],
        "users": ctx["users"],
    }
    writes_before = db_writes(ctx["studio_url"])
    with sampling(ctx["studio_pid"]) as resources:
        level["paths"]["studio"] = run_loadgen(config, f"studio-{n}", studio_spec)
    settle(ctx["studio_pid"])
    writes_after = db_writes(ctx["studio_url"])
    level["studio_resources"] = resources
    level["studio_db_writes"] = {
        key: writes_after.get(key, 0) - writes_before.get(key, 0)
        for key in writes_after
        if writes_after.get(key, 0) != writes_before.get(key, 0)
    }

    litellm = ctx["litellm"]
    if litellm["status"] == "ok":
        log(f"N={n}: through LiteLLM")
        # LiteLLM refuses the non-OpenAI `thinking` field unless it travels in extra_body.
        lite_body = {k: v for k, v in body.items() if k != "thinking"}
        lite_body["extra_body"] = {"thinking": body["thinking"]}
        with sampling(litellm["pid"]) as lite_resources:
            level["paths"]["litellm"] = run_loadgen(
                config,
                f"litellm-{n}",
                {**common, "mode": "openai", "base_url": litellm["url"],
                 "api_key": litellm["api_key"], "body": lite_body},
            )  # fmt: skip
        level["litellm_resources"] = lite_resources
        settle(litellm["pid"])
    return level


def profile_studio(config: Config, n: int, ctx: dict[str, Any]) -> dict[str, Any]:
    """Run the studio path at N once more under py-spy (not measured: sampling slows it)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        return {"status": "unavailable", "reason": "py-spy is not installed (.[bench] extra)"}
    raw = config.work_dir / f"profile-{n}.raw.txt"
    say(f"N={n}: profiling the studio with py-spy (an extra, unmeasured run)")
    spy = subprocess.Popen(  # noqa: S603
        [str(py_spy), "record", "--pid", str(ctx["studio_pid"]), "--rate", "100", "--idle",
         "--threads", "--nonblocking", "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(1)
    plan = ctx["plan"]
    streams = [{"topic": s["topic"], "messages": s["messages"]} for s in plan["streams"][:n]]
    spec = {
        "n": n, "count": n, "ramp": config.ramp_for(n), "streams": streams,
        "mode": "studio", "base_url": ctx["studio_url"], "version_id": plan["version_id"],
        "users": ctx["users"],
    }  # fmt: skip
    run_loadgen(config, f"profile-{n}", spec)
    spy.send_signal(signal.SIGINT)
    try:
        _, err = spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if not raw.exists():
        return {"status": "failed", "reason": err.decode(errors="replace")[-500:]}
    summary = report.summarise_profile(raw.read_text())
    out = config.out.parent / f"profile-{n}.txt"
    out.write_text(summary)
    settle(ctx["studio_pid"])
    return {"status": "ok", "n": n, "summary_file": os.path.relpath(out, ROOT)}


def main(argv: list[str] | None = None) -> int:
    config = parse_config(sys.argv[1:] if argv is None else argv)
    raise_file_limit()  # children inherit it: one socket per open stream
    config.work_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"N = {', '.join(map(str, config.ns))}; {config.tokens} tokens per answer at "
        f"{config.tps:g} tokens/s after {config.first_token_delay:g} s; deadline "
        f"{config.deadline:.0f} s; work dir {config.work_dir}"
    )
    levels: list[dict[str, Any]] = []
    skipped: list[int] = []
    with contextlib.ExitStack() as stack:
        simulator, simulator_url = start_simulator(config, stack)
        env = studio_env(config, simulator_url)
        plan = prepare_database(config, env, max(*config.ns, config.repeats, config.profile or 0))
        studio, studio_url = start_studio(config, env, stack)
        simulator.wait_ready(f"{simulator_url}/models", timeout=30, auth="sk-bench")
        studio.wait_ready(f"{studio_url}/healthz", timeout=60)
        litellm = start_litellm(config, simulator_url, stack)
        say(f"logging in {len(plan['users'])} bench users through /accounts/login/")
        users = [
            {**user, **log_in(studio_url, user["username"], plan["password"])}
            for user in plan["users"]
        ]
        ctx = {
            "plan": plan,
            "users": users,
            "simulator_url": simulator_url,
            "studio_url": studio_url,
            "studio_pid": studio.pid,
            "litellm": litellm,
        }
        say("warm-up (not measured): N=1 on every path")
        # --quick warms up with one stream a path; the full run with the whole N=1 level.
        run_level(replace(config, repeats=1) if config.quick else config, 1, ctx, quiet=True)
        for n in config.ns:
            paths = 3 if litellm["status"] == "ok" else 2
            needed = paths * config.seconds_for(n)
            if config.remaining() < needed:
                skipped.append(n)
                say(f"N={n}: skipped, {config.remaining():.0f} s left of the deadline")
                continue
            level = run_level(config, n, ctx)
            levels.append(level)
            say(report.level_summary(report.analyse_level(level, config.tokens)))
        profile = None
        if config.profile and config.remaining() > config.seconds_for(config.profile) + 30:
            profile = profile_studio(config, config.profile, ctx)
        elif config.profile:
            profile = {"status": "skipped", "reason": "not enough time left (BENCH_DEADLINE)"}
        studio_log_tail = studio.tail()
    results = report.build(
        config={
            **{k: v for k, v in asdict(config).items() if k not in ("started",)},
            "work_dir": str(config.work_dir),
            "out": str(config.out),
            "stream_seconds": config.stream_seconds,
        },
        levels=levels,
        skipped=skipped,
        litellm={k: v for k, v in litellm.items() if k not in ("api_key", "pid")},
        studio_log_tail=studio_log_tail,
        profile=profile,
        elapsed=time.monotonic() - config.started,
    )
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report.markdown(results))  # noqa: T201
    say(f"results: {config.out}")
    if config.chart:
        chart = config.out.with_suffix(".png")
        problem = report.chart(results, chart)
        say(problem or f"chart: {chart}")
    if config.report:
        say(f"{report.update_report(results).relative_to(ROOT)}: generated section updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
