"""The streaming benchmark: ``make bench`` (or ``python -m bench.run``).

Starts, on loopback only, the offline DeepSeek simulator (fixed token rate and first-token
delay) and, in front of it, every path ``BENCH_PATHS`` names (``bench/services.py``): the
studio as ``make run`` starts it (one uvicorn worker, SQLite), the studio as the Docker image
runs it (``WEB_CONCURRENCY`` workers, PostgreSQL and Redis), another revision's studio as a
baseline (``BENCH_BASELINE``), and the LiteLLM proxy with one and with two workers. Then, for
each N, a load generator process (``bench/loadgen.py``) opens N concurrent streams directly
against the simulator (the physical limit) and through each path, with the same prompts.
``bench/report.py`` turns what arrived when into the numbers and issue 22's targets and writes
``bench/results/latest.json``, the chart and the generated section of ``docs/benchmark.md``
(never README.md).

Everything is bounded: each level has a timeout and the whole run a deadline, after which the
remaining levels are skipped and the report says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import report
from bench.loadgen import raise_file_limit
from bench.services import (  # noqa: F401 — bench/campaign.py and bench/trace.py use them here
    BENCH_DIR,
    LITELLM_SHAPES,
    ROOT,
    STUDIO_SHAPES,
    Service,
    db_writes,
    log_in,
    prepare_database,
    redact,
    sampling,
    say,
    settle,
    start_litellms,
    start_simulator,
    start_studio,
    start_studio_shape,
    studio_env,
    worker_pids,
    writes_delta,
)

RESULTS = BENCH_DIR / "results"
# BENCH_PATHS' words → the paths' names in the results.
PATH_NAMES = {
    "studio": "studio",
    "embedded": "studio",
    "image": "studio_image",
    "baseline": "studio_baseline",
    "litellm": "litellm",
    "litellm2": "litellm_2w",
}
DEFAULT_PATHS = "studio,image,litellm,litellm2"  # + baseline when BENCH_BASELINE is set
# With no BENCH_LEVEL_TIMEOUT, a level may take this many seconds per stream (60 s at least):
# 150 s at N=500 and 300 s at N=1000, room for every stream to finish at a few times the CPU
# per stream that one saturated worker measured (52-72 ms).
TIMEOUT_PER_STREAM = 0.3
MIN_LEVEL_TIMEOUT = 60.0


@dataclass
class Config:
    ns: list[int]
    tokens: int
    tps: float
    first_token_delay: float
    ramp: float | None  # seconds over which a level's streams start; None: one stream's length
    level_timeout: float | None  # None: timeout_for(n)'s default, growing with N
    deadline: float
    users: int
    repeats: int  # N=1 runs this many streams one after another
    profile: int | None  # an N to profile the studio at (py-spy), after the measured levels
    profile_path: str  # which studio shape (studio or image)
    profile_cpu: bool  # working threads only, at 250 Hz (no --idle): where the CPU goes
    profile_gil: bool  # only the thread holding the GIL (--gil): Python's own CPU
    paths: list[str]  # besides "direct", in the order a level runs them
    work_dir: Path
    out: Path
    chart: bool
    report: bool  # rewrite docs/benchmark.md's generated section
    database_url: str
    image_database_url: str = "postgres://postgres@127.0.0.1:5432/bench_image"
    image_redis_url: str = "redis://127.0.0.1:6379/9"
    image_workers: int = 2
    baseline: str | None = None  # a git revision whose studio runs as the "studio_baseline" path
    # N=100 measures the embedded studio's and the baseline's CPU this many times, alternating
    # (the level's own run is the first): the CPU target is judged on the medians.
    cpu_rounds: int = 1
    # A level of N > 1 runs at least this many streams, one started every 1/N of an answer's
    # length, so that about N are open at once: its p50 rests on as many samples.
    min_samples: int = 30
    quick: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def litellm(self) -> bool:
        return any(p in LITELLM_SHAPES for p in self.paths)

    @property
    def stream_seconds(self) -> float:
        return self.first_token_delay + self.tokens / self.tps

    def count_for(self, n: int) -> int:
        """Streams a level runs: N=1's one after another, else at least ``min_samples``."""
        return self.repeats if n == 1 else max(n, self.min_samples)

    def timeout_for(self, n: int) -> float:
        """Seconds one path of a level may take before its unfinished streams are cut off."""
        if self.level_timeout is not None:
            return self.level_timeout
        # N=1's streams run one after another: twice their unloaded time (20 of them ≈ 91 s).
        return max(MIN_LEVEL_TIMEOUT, TIMEOUT_PER_STREAM * n, 2 * self.seconds_for(n) * (n == 1))

    def seconds_for(self, n: int) -> float:
        """Roughly how long one path of a level takes when nothing is overloaded."""
        if n == 1:
            return self.repeats * (self.stream_seconds + 0.2) + 1
        return self.ramp_for(n) * self.count_for(n) / n + self.stream_seconds + 2

    def ramp_for(self, n: int) -> float:
        if n == 1:
            return 0.0
        return self.tokens / self.tps if self.ramp is None else self.ramp

    def remaining(self) -> float:
        return self.deadline - (time.monotonic() - self.started)


def parse_paths(text: str, *, baseline: str | None, litellm: bool) -> list[str]:
    """BENCH_PATHS (comma-separated words of PATH_NAMES) → path names in the level's order;
    ``baseline`` is added when a revision is given, LiteLLM's paths dropped when it is off."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    unknown = [w for w in words if w not in PATH_NAMES]
    if unknown:
        raise ValueError(f"unknown path(s) {', '.join(unknown)}: use {', '.join(PATH_NAMES)}")
    chosen = {PATH_NAMES[w] for w in words}
    if baseline:
        chosen.add("studio_baseline")
    elif "studio_baseline" in chosen:
        raise ValueError("the baseline path needs BENCH_BASELINE=<git revision>")
    if not litellm:
        chosen -= set(LITELLM_SHAPES)
    order = [*STUDIO_SHAPES, *LITELLM_SHAPES]
    return [name for name in order if name in chosen]


def parse_config(argv: list[str]) -> Config:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="N=1,2, short fast answers, the embedded studio only"
    )
    parser.add_argument("--ns", default=None, help="BENCH_NS; 1,10,100,500,1000 (--quick: 1,2)")
    parser.add_argument("--tokens", type=int, default=int(env("BENCH_TOKENS", "200")))
    parser.add_argument("--tps", type=float, default=None, help="BENCH_TPS; 50 (--quick: 500)")
    parser.add_argument(
        "--first-token-delay", type=float, default=float(env("BENCH_FIRST_TOKEN_DELAY", "0.3"))
    )
    parser.add_argument("--ramp", type=float, default=env("BENCH_RAMP"))
    parser.add_argument(
        "--level-timeout",
        type=float,
        default=env("BENCH_LEVEL_TIMEOUT") or None,
        help=f"seconds; default max({MIN_LEVEL_TIMEOUT:g}, {TIMEOUT_PER_STREAM:g} × N)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=float(env("BENCH_DEADLINE", "3600")),
        help="seconds for the whole run, counted from BENCH_STARTED (epoch s) when it is set",
    )
    parser.add_argument("--users", type=int, default=int(env("BENCH_USERS", "10")))
    parser.add_argument("--repeats", type=int, default=int(env("BENCH_N1_REPEATS", "20")))
    parser.add_argument(
        "--min-samples", type=int, default=None, help="streams a level of N > 1 runs at least"
    )
    parser.add_argument(
        "--profile", type=int, default=int(env("BENCH_PROFILE", "0")), help="0: no profile"
    )
    parser.add_argument(
        "--profile-path",
        choices=("studio", "image"),
        default=env("BENCH_PROFILE_PATH", "studio"),
        help="the studio shape --profile profiles",
    )
    parser.add_argument(
        "--profile-cpu",
        action="store_true",
        default=env("BENCH_PROFILE_CPU", "0") == "1",
        help="sample only working threads, at 250 Hz (py-spy without --idle): where the CPU goes",
    )
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        default=env("BENCH_PROFILE_GIL", "0") == "1",
        help="sample only the thread holding the GIL, at 250 Hz (py-spy --gil): no waits counted",
    )
    parser.add_argument("--paths", default=env("BENCH_PATHS"), help=f"default {DEFAULT_PATHS}")
    parser.add_argument("--baseline", default=env("BENCH_BASELINE") or None)
    parser.add_argument(
        "--cpu-rounds",
        type=int,
        default=int(env("BENCH_CPU_ROUNDS", "3")),
        help="runs of N=100 for the embedded studio and the baseline, alternating (CPU target)",
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
        args.tokens = int(env("BENCH_TOKENS", "30"))
        args.no_chart = args.no_report = True
        args.users = min(args.users, 2)
        args.repeats = int(env("BENCH_N1_REPEATS", "3"))
        args.paths = args.paths or "studio"
    if args.min_samples is None:  # --quick: each level its N streams
        args.min_samples = int(env("BENCH_MIN_SAMPLES", "1" if args.quick else "30"))
    args.ns = args.ns or env("BENCH_NS") or ("1,2" if args.quick else "1,10,100,500,1000")
    ns = sorted({int(n) for n in str(args.ns).split(",") if n.strip()})
    if not ns or ns[0] < 1:
        parser.error("--ns / BENCH_NS must be positive integers, e.g. 1,10,100")
    try:
        paths = parse_paths(
            args.paths or DEFAULT_PATHS, baseline=args.baseline, litellm=not args.no_litellm
        )
    except ValueError as exc:
        parser.error(f"--paths / BENCH_PATHS: {exc}")
    work = args.work_dir.resolve()
    return Config(
        ns=ns,
        tokens=args.tokens,
        tps=args.tps,
        first_token_delay=args.first_token_delay,
        ramp=float(args.ramp) if args.ramp not in (None, "") else None,
        level_timeout=float(args.level_timeout) if args.level_timeout is not None else None,
        deadline=args.deadline,
        users=max(1, args.users),
        repeats=max(1, args.repeats),
        profile=int(args.profile) if args.profile else None,
        profile_path=args.profile_path,
        profile_cpu=args.profile_cpu or args.profile_gil,
        profile_gil=args.profile_gil,
        paths=paths,
        work_dir=work,
        out=args.out.resolve(),
        chart=not args.no_chart,
        report=not args.no_report,
        # Never the studio's own DATABASE_URL: the bench migrates and fills its database.
        database_url=env("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite3'}",
        image_database_url=env("BENCH_IMAGE_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/bench_image",
        image_redis_url=env("BENCH_IMAGE_REDIS_URL") or "redis://127.0.0.1:6379/9",
        image_workers=max(2, int(env("BENCH_IMAGE_WORKERS", "2"))),
        baseline=args.baseline,
        cpu_rounds=max(1, args.cpu_rounds),
        min_samples=max(1, args.min_samples),
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


def run_loadgen(config: Config, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    # Each path gets the level timeout, cut short by what is left of the run's deadline.
    timeout = min(config.timeout_for(spec["n"]), max(10.0, config.remaining() - 20))
    spec = {"timeout": timeout} | spec
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


def chat_body(params: dict[str, Any]) -> dict[str, Any]:
    """The body the studio's client sends (studio/deepseek/client.py, _chat_body)."""
    body = {
        "model": params["model"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": params.get("max_tokens"),
        "thinking": {"type": "enabled" if params.get("thinking") else "disabled"},
    }
    if not params.get("thinking"):
        body["temperature"] = params.get("temperature")
    return body


def path_spec(name: str, shape: dict[str, Any], common: dict[str, Any], body: dict[str, Any]):
    """What the load generator needs to load one path."""
    if shape["kind"] == "studio":
        return {
            **common,
            "mode": "studio",
            "base_url": shape["url"],
            "version_id": shape["plan"]["version_id"],
            "users": shape["users"],
            "fresh_connections": shape.get("fresh_connections", False),
        }
    # LiteLLM refuses the non-OpenAI `thinking` field unless it travels in extra_body.
    lite_body = {k: v for k, v in body.items() if k != "thinking"}
    lite_body["extra_body"] = {"thinking": body["thinking"]}
    return {**common, "mode": "openai", "base_url": shape["url"], "api_key": shape["api_key"],
            "body": lite_body}  # fmt: skip


def run_level(
    config: Config, n: int, ctx: dict[str, Any], *, quiet: bool = False
) -> dict[str, Any]:
    """One N: direct, then each path that started, with the same prompts."""
    log = (lambda _: None) if quiet else say
    plan = ctx["plan"]
    streams = [
        {"topic": s["topic"], "messages": s["messages"]}
        for s in plan["streams"][: config.count_for(n)]
    ]
    body = chat_body(plan["params"])
    common = {"n": n, "count": config.count_for(n), "ramp": config.ramp_for(n), "streams": streams}
    level: dict[str, Any] = {"n": n, "count": common["count"], "ramp_s": common["ramp"]}
    level["timeout_s"] = config.timeout_for(n)
    level["paths"], level["resources"], level["db_writes"] = {}, {}, {}

    log(f"N={n}: direct to the simulator")
    direct_spec = {**common, "mode": "openai", "base_url": ctx["simulator_url"]}
    level["paths"]["direct"] = run_loadgen(
        config, f"direct-{n}", {**direct_spec, "api_key": "sk-bench", "body": body}
    )
    for name, shape in ctx["shapes"].items():
        if shape["status"] != "ok":
            continue
        log(f"N={n}: through {shape['label']}")
        spec = path_spec(name, shape, common, body)
        writes_before = db_writes(shape) if shape["kind"] == "studio" else {}
        with sampling(shape["pid"]) as resources:
            level["paths"][name] = run_loadgen(config, f"{name}-{n}", spec)
        settle(shape["pid"])
        level["resources"][name] = resources
        if shape["kind"] == "studio":
            level["db_writes"][name] = writes_delta(writes_before, db_writes(shape))
    if n == CPU_LEVEL and (pair := cpu_pair(config, ctx)):
        level["cpu_rounds"] = cpu_rounds(config, n, ctx, pair, level, common, body, log)
    return level


CPU_LEVEL = 100  # issue 22's CPU target: the embedded studio's CPU per stream at this N


def cpu_pair(config: Config, ctx: dict[str, Any]) -> list[str]:
    """The two paths the CPU target compares, when both run and more than one round is asked."""
    pair = ["studio", "studio_baseline"]
    ok = all(ctx["shapes"].get(name, {}).get("status") == "ok" for name in pair)
    return pair if ok and config.cpu_rounds > 1 else []


def cpu_rounds(
    config: Config,
    n: int,
    ctx: dict[str, Any],
    pair: list[str],
    level: dict[str, Any],
    common: dict[str, Any],
    body: dict[str, Any],
    log: Any,
) -> dict[str, list[float]]:
    """CPU seconds of each of the pair's runs at N: the level's own, then the rounds after it,
    in alternating order (the baseline first in the second round), so that a machine that
    slows down or speeds up during the level weighs on both alike."""
    seconds = {name: [level["resources"][name]["cpu_s"]] for name in pair}
    for round_ in range(2, config.cpu_rounds + 1):
        for name in pair[::-1] if round_ % 2 == 0 else pair:
            shape = ctx["shapes"][name]
            log(f"N={n}: CPU round {round_} of {config.cpu_rounds} through {shape['label']}")
            spec = path_spec(name, shape, common, body)
            with sampling(shape["pid"]) as resources:
                run_loadgen(config, f"{name}-{n}-round-{round_}", spec)
            settle(shape["pid"])
            seconds[name].append(resources["cpu_s"])
    return seconds


PROFILE_RATE = 100  # samples a second, threads waiting included (--idle)
PROFILE_CPU_RATE = 250  # working threads only: more samples where the CPU goes


def profile_studio(config: Config, n: int, ctx: dict[str, Any], name: str = "studio") -> dict:
    """Run a studio shape at N once more under py-spy (not measured: sampling slows it):
    its process, or with several workers (the image shape) each worker, stacks added up."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        return {"status": "unavailable", "reason": "py-spy is not installed (.[bench] extra)"}
    shape = ctx["shapes"][name]
    suffix = "" if name == "studio" else f"-{name.removeprefix('studio_')}"
    suffix += "-gil" if config.profile_gil else "-cpu" if config.profile_cpu else ""
    rate = PROFILE_CPU_RATE if config.profile_cpu else PROFILE_RATE
    pids = worker_pids(shape["pid"]) or [shape["pid"]]
    raws = [config.work_dir / f"profile-{n}{suffix}-{pid}.raw.txt" for pid in pids]
    say(f"N={n}: profiling {name} ({len(pids)} process(es)) with py-spy (an extra, unmeasured run)")
    spies = [
        subprocess.Popen(  # noqa: S603
            [
                str(py_spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                *([] if config.profile_cpu else ["--idle"]),
                *(["--gil"] if config.profile_gil else []),
                "--threads",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for pid, raw in zip(pids, raws, strict=True)
    ]
    time.sleep(1)
    streams = [{"topic": s["topic"], "messages": s["messages"]} for s in ctx["plan"]["streams"][:n]]
    common = {"n": n, "count": n, "ramp": config.ramp_for(n), "streams": streams}
    run_loadgen(config, f"profile-{n}{suffix}", path_spec(name, shape, common, {}))
    errors = b""
    for spy in spies:
        spy.send_signal(signal.SIGINT)
        try:
            errors += spy.communicate(timeout=60)[1]
        except subprocess.TimeoutExpired:
            spy.kill()
            errors += spy.communicate()[1]
    recorded = [raw.read_text() for raw in raws if raw.exists()]
    if not recorded:
        return {"status": "failed", "reason": errors.decode(errors="replace")[-500:]}
    summary = report.summarise_profile("\n".join(recorded), rate=rate)
    if len(pids) > 1:
        summary = f"{len(recorded)} worker processes, their samples added up.\n{summary}"
    out = config.out.parent / f"profile-{n}{suffix}.txt"
    out.write_text(summary)
    settle(shape["pid"])
    return {"status": "ok", "n": n, "path": name, "summary_file": os.path.relpath(out, ROOT)}


def prompts_plan(
    config: Config, shapes: dict[str, dict[str, Any]], simulator_url: str, streams: int
) -> dict[str, Any]:
    """The prompts every path sends: the first studio shape's plan, or, with no studio
    running, the embedded studio's database prepared for it alone. A shape whose prompts
    differ (a baseline revision that builds them otherwise) is marked: the direct run is its
    reference, so its chunks lost would count the difference."""
    plans = [s["plan"] for s in shapes.values() if s["status"] == "ok" and "plan" in s]
    if plans:
        plan = plans[0]
    else:
        plan = prepare_database(config, studio_env(config, simulator_url), streams)
    for name, shape in shapes.items():
        if "plan" in shape and shape["plan"]["streams"] != plan["streams"]:
            shape["prompts_differ"] = True
            say(f"{name}: its prompts differ from the other paths' (chunks lost is not a loss)")
    return plan


def public(shape: dict[str, Any]) -> dict[str, Any]:
    """What the report may show of a path: no keys, processes or plans."""
    hidden = ("api_key", "pid", "service", "plan", "users", "url", "writes_dir", "kind")
    return {k: v for k, v in shape.items() if k not in hidden}


def main(argv: list[str] | None = None) -> int:
    config = parse_config(sys.argv[1:] if argv is None else argv)
    raise_file_limit()  # children inherit it: one socket per open stream
    config.work_dir.mkdir(parents=True, exist_ok=True)
    say(
        f"N = {', '.join(map(str, config.ns))}; {config.tokens} tokens per answer at "
        f"{config.tps:g} tokens/s after {config.first_token_delay:g} s; paths: direct, "
        f"{', '.join(config.paths)}; deadline {config.deadline:.0f} s; work dir {config.work_dir}"
    )
    levels: list[dict[str, Any]] = []
    skipped: list[int] = []
    streams = max(*map(config.count_for, config.ns), config.profile or 0)
    with contextlib.ExitStack() as stack:
        simulator, simulator_url = start_simulator(config, stack)
        simulator.wait_ready(f"{simulator_url}/models", timeout=30, auth="sk-bench")
        shapes = {
            name: start_studio_shape(config, name, simulator_url, streams, stack)
            for name in config.paths
            if name in STUDIO_SHAPES
        }
        lites = [name for name in config.paths if name in LITELLM_SHAPES]
        shapes |= start_litellms(config, lites, simulator_url, stack)
        plan = prompts_plan(config, shapes, simulator_url, streams)
        measured = {name: shapes[name] for name in config.paths}
        ctx = {"plan": plan, "simulator_url": simulator_url, "shapes": measured}
        say("warm-up (not measured): a few N=1 streams on every path")
        run_level(replace(config, repeats=1 if config.quick else 3), 1, ctx, quiet=True)
        for n in config.ns:
            paths = 1 + sum(1 for shape in measured.values() if shape["status"] == "ok")
            rounds = 2 * (config.cpu_rounds - 1) if n == CPU_LEVEL and cpu_pair(config, ctx) else 0
            needed = (paths + rounds) * config.seconds_for(n)
            if config.remaining() < needed:
                skipped.append(n)
                say(f"N={n}: skipped, {config.remaining():.0f} s left of the deadline")
                continue
            level = run_level(config, n, ctx)
            levels.append(level)
            say(report.level_summary(report.analyse_level(level, config.tokens)))
        profile = None
        profiled = PATH_NAMES[config.profile_path]
        if config.profile and profiled not in shapes:
            profile = {"status": "skipped", "reason": f"{profiled} is not in BENCH_PATHS"}
        elif config.profile and config.remaining() > config.seconds_for(config.profile) + 30:
            profile = profile_studio(config, config.profile, ctx, profiled)
        elif config.profile:
            profile = {"status": "skipped", "reason": "not enough time left (BENCH_DEADLINE)"}
        services = [shape["service"] for shape in shapes.values() if "service" in shape]
        studio_log_tail = services[0].tail() if services else ""
    results = report.build(
        config={
            **{k: v for k, v in asdict(config).items() if k not in ("started",)},
            "work_dir": str(config.work_dir),
            "out": str(config.out),
            "stream_seconds": config.stream_seconds,
            "image_database_url": redact(config.image_database_url),
            "image_redis_url": redact(config.image_redis_url),
            "timeouts_s": {str(n): config.timeout_for(n) for n in config.ns},
        },
        levels=levels,
        skipped=skipped,
        services={name: public(shape) for name, shape in measured.items()},
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
