"""From what arrived when to the benchmark's numbers, table, chart and the generated section
of docs/benchmark.md (README.md is never written: it is for users, and stays short).

Definitions (per N; every path gets the same prompts, and stream i of each path is paired with
stream i of the direct run, which asked the simulator for the very same text):

- **TTFT**: from sending the first request (the studio: the Generate POST) to the first text.
  *Added TTFT* p50/p99 = that percentile through the path minus it directly.
- **Added inter-chunk delay**: the gaps between successive pieces of text a client receives
  (pieces that came in one read count once: one screen update), p50/p99 over all gaps of all
  streams, through the path minus directly. The studio batches only as a worker gets busy
  (``studio.streams.events.Pacing``; up to ``GENERATION_SSE_BATCH``, 50 ms). ``token_lag_ms`` in the
  JSON adds, per token k, how much later it arrived relative to the stream's first token than
  it did directly,
  ``(t_path[k] - t_path[0]) - (t_direct[k] - t_direct[0])``: negative where a path's first
  token was held back more than the rest (the catch-up is in TTFT), noisy where the machine
  is shared.
- **Chunks lost**: tokens of the direct run's text missing from the text the path delivered
  (a token-level diff), unfinished streams included; ``chunks_lost_finished`` counts only the
  streams that finished (a real loss), and **unfinished** streams (no end seen before the
  level's timeout) are counted on their own. The direct run itself is checked against the
  token count the simulator was asked for.
- **Samples**: how many streams a TTFT percentile rests on (N=1: ``BENCH_N1_REPEATS``
  streams one after another; a level of fewer than ``BENCH_MIN_SAMPLES`` streams runs that
  many, about N open at once) and how many gaps an inter-chunk percentile rests on.
- **CPU / memory per open stream**: the path's process tree (a uvicorn or LiteLLM supervisor
  and all its worker children, summed): CPU seconds over the level ÷ streams, and (peak of
  the summed RSS during the level - the sum before it) ÷ N, sampled with psutil every 20 ms.
- **DB writes per generation**: INSERT/UPDATE/DELETE statements the studio ran during the
  level ÷ generations started, counted by bench/asgi.py's execute wrapper in every worker and
  summed over the workers (each worker writes its counts to a file when signalled), the same
  statement count in every shape (not PostgreSQL's row counters, which count rows, not
  statements, and are flushed late).
"""

from __future__ import annotations

import bisect
import difflib
import json
import math
import os
import platform
import re
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.deepseek.simulator import tokenize

ROOT = Path(__file__).resolve().parent.parent
# The page whose generated section `make bench` rewrites, and the chart it shows.
REPORT_DOC = Path("docs") / "benchmark.md"
CHART = Path("bench") / "results" / "latest.png"
REPORT_START = "<!-- bench:start (written by bench/report.py) -->"
REPORT_END = "<!-- bench:end -->"


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def _token_ends(text: str) -> list[int]:
    ends, total = [], 0
    for token in tokenize(text):
        total += len(token)
        ends.append(total)
    return ends


def _token_times(stream: dict[str, Any], ends: list[int]) -> list[float | None]:
    """When each token of the reference text had fully arrived on this stream."""
    chars, times = stream["chars"], stream["t"]
    out: list[float | None] = []
    for end in ends:
        index = bisect.bisect_left(chars, end)
        out.append(times[index] if index < len(times) else None)
    return out


def _lost(reference: str, received: str) -> int:
    if received == reference:
        return 0
    ref, got = tokenize(reference), tokenize(received)
    matcher = difflib.SequenceMatcher(None, ref, got, autojunk=False)
    return len(ref) - sum(block.size for block in matcher.get_matching_blocks())


def _references(direct: list[dict[str, Any]], tokens: int) -> dict[int, str]:
    """Direct texts that are complete (as many tokens as asked, [DONE] seen)."""
    return {
        s["i"]: s["text"]
        for s in direct
        if s["ok"] and len(tokenize(s["text"])) == tokens == s.get("completion_tokens", tokens)
    }


def analyse_path(
    streams: list[dict[str, Any]],
    direct: list[dict[str, Any]],
    references: dict[int, str],
    tokens: int,
    *,
    is_direct: bool = False,
) -> dict[str, Any]:
    by_i = {s["i"]: s for s in direct}
    ttfts = [s["t"][0] for s in streams if s["t"]]
    # One read that carried several chunks is one update for the reader: gaps between reads.
    gaps = [b - a for s in streams for a, b in zip(s["t"], s["t"][1:], strict=False) if b > a]
    lags: list[float] = []
    lost = lost_finished = unverified = 0
    for stream in streams:
        reference = references.get(stream["i"])
        if is_direct:
            missing = max(0, tokens - len(tokenize(stream["text"])))
            lost += missing
            lost_finished += missing if stream["ok"] else 0
            continue
        if reference is None:
            unverified += 1
            continue
        missing = _lost(reference, stream["text"])
        lost += missing
        lost_finished += missing if stream["ok"] else 0
        ends = _token_ends(reference)
        mine, theirs = _token_times(stream, ends), _token_times(by_i[stream["i"]], ends)
        if not mine or mine[0] is None or theirs[0] is None:
            continue
        for k in range(1, len(ends)):
            if mine[k] is not None and theirs[k] is not None:
                lags.append((mine[k] - mine[0]) - (theirs[k] - theirs[0]))
    errors = [s["error"] for s in streams if s["error"]]
    # Several workers: streams whose SSE GET reached another worker than their POST.
    named = [s for s in streams if s.get("post_worker") and s.get("events_worker")]
    crossed = sum(1 for s in named if s["post_worker"] != s["events_worker"])
    return {
        "streams": len(streams),
        "completed": sum(1 for s in streams if s["ok"]),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "ttft_ms": {"p50": _ms(percentile(ttfts, 50)), "p99": _ms(percentile(ttfts, 99))},
        "gap_ms": {"p50": _ms(percentile(gaps, 50)), "p99": _ms(percentile(gaps, 99))},
        "token_lag_ms": {"p50": _ms(percentile(lags, 50)), "p99": _ms(percentile(lags, 99))},
        "last_text_s": round(max((s["t"][-1] for s in streams if s["t"]), default=0), 3),
        "chunks_lost": lost,
        "chunks_lost_finished": lost_finished,
        "unfinished": sum(1 for s in streams if not s["ok"]),
        "ttft_samples": len(ttfts),
        "gap_samples": len(gaps),
        "unverified_streams": unverified,
        **({"across_workers": crossed, "workers_named": len(named)} if named else {}),
    }


def _added(path: dict[str, Any], direct: dict[str, Any]) -> dict[str, float | None]:
    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a - b, 2)

    return {
        "ttft_p50_ms": minus(path["ttft_ms"]["p50"], direct["ttft_ms"]["p50"]),
        "ttft_p99_ms": minus(path["ttft_ms"]["p99"], direct["ttft_ms"]["p99"]),
        "chunk_p50_ms": minus(path["gap_ms"]["p50"], direct["gap_ms"]["p50"]),
        "chunk_p99_ms": minus(path["gap_ms"]["p99"], direct["gap_ms"]["p99"]),
    }


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs <= 0:
        return None
    return round(ours / theirs, 3)


# Issue 22's comparisons: each studio shape against the LiteLLM of its worker count.
PAIRS = (("studio", "litellm"), ("studio_image", "litellm_2w"))
STUDIO_SHAPES = ("studio", "studio_image", "studio_baseline")
LABELS = {
    "direct": "direct",
    "studio": "studio, embedded",
    "studio_image": "studio, image",
    "studio_baseline": "studio, baseline",
    "litellm": "LiteLLM, 1 worker",
    "litellm_2w": "LiteLLM, 2 workers",
}
BASELINE_CPU_MS = 72.0  # issue 22: the studio's CPU per stream at N=100 on 2026-12-04


def _cpu_medians(rounds: dict[str, list[float]], count: int, rev: str) -> tuple[float, float, str]:
    """The embedded studio's and the baseline's median CPU ms per stream over their
    alternating runs at N=100 (``bench.run.cpu_rounds``), and a note listing every run."""
    ms = {name: [round(s * 1000 / count, 1) for s in seconds] for name, seconds in rounds.items()}
    ours, base = (round(statistics.median(ms[name]), 2) for name in ("studio", "studio_baseline"))
    pairs = zip(ms["studio"], ms["studio_baseline"], strict=True)
    runs = " / ".join(f"{a:g} vs {b:g}" for a, b in pairs)
    note = f"medians of {len(ms['studio'])} alternating runs; baseline {rev}: {base} ms"
    return ours, base, f"{note}; each run, studio vs baseline: {runs}"


def _resources(level: dict[str, Any], name: str, count: int) -> dict[str, Any]:
    """CPU, memory and (for the studio) database writes of one path's process tree."""
    res = level.get("resources", {}).get(name) or {}
    n = level["n"]
    out: dict[str, Any] = {
        "processes": res.get("processes"),
        "cpu_s": round(res.get("cpu_s", 0), 3),
        "cpu_ms_per_stream": round(res.get("cpu_s", 0) * 1000 / count, 2) if res else None,
        "cpu_percent": round(100 * res["cpu_s"] / res["wall_s"], 1) if res else None,
        "rss_before_mib": round(res.get("rss_before", 0) / 2**20, 1),
        "rss_peak_mib": round(res.get("rss_peak", 0) / 2**20, 1),
        "peak_kib_per_stream": round(
            (res.get("rss_peak", 0) - res.get("rss_before", 0)) / 1024 / n, 1
        )
        if res
        else None,
    }
    by_worker = level.get("db_writes", {}).get(name)
    if by_worker is None:
        return out
    writes: dict[str, int] = {}
    for counts in by_worker.values():
        for key, value in counts.items():
            writes[key] = writes.get(key, 0) + value
    # Generations the studio created (also those whose streams the level's timeout cut off).
    generations = writes.get("INSERT drafts_generation") or sum(
        1 for s in level["paths"][name]["streams"] if s.get("generation_id")
    )
    total = sum(writes.values())
    out |= {
        "generations": generations,
        "db_writes": writes,
        "db_writes_per_generation": round(total / generations, 2) if generations else None,
    }
    if len(by_worker) > 1:  # which worker took how many Generate POSTs
        out["generations_by_worker"] = {
            pid: counts.get("INSERT drafts_generation", 0) for pid, counts in by_worker.items()
        }
    return out


def analyse_level(level: dict[str, Any], tokens: int) -> dict[str, Any]:
    direct_streams = level["paths"]["direct"]["streams"]
    references = _references(direct_streams, tokens)
    count = level.get("count", level["n"])
    out: dict[str, Any] = {"n": level["n"], "streams": count, "ramp_s": level["ramp_s"]}
    out["timeout_s"] = level.get("timeout_s")
    out["paths"] = {}
    for name, data in level["paths"].items():
        out["paths"][name] = analyse_path(
            data["streams"], direct_streams, references, tokens, is_direct=name == "direct"
        )
        out["paths"][name]["loadgen_wall_s"] = round(data["wall_s"], 3)
    direct = out["paths"]["direct"]
    for name, path in out["paths"].items():
        if name != "direct":
            path["added"] = _added(path, direct)
    out["resources"] = {
        name: _resources(level, name, count) for name in out["paths"] if name != "direct"
    }
    if "studio" in out["resources"]:
        out["studio"] = out["resources"]["studio"]  # the embedded shape, as before issue 22
    if "cpu_rounds" in level:  # CPU seconds of each alternating run (bench.run.cpu_rounds)
        out["cpu_rounds"] = level["cpu_rounds"]
    out["vs_litellm"] = {}
    for ours, theirs in PAIRS:
        if ours in out["paths"] and theirs in out["paths"]:
            a, b = out["paths"][ours]["added"], out["paths"][theirs]["added"]
            out["vs_litellm"][ours] = {
                "litellm": theirs,
                **{key: _ratio(a[key], b[key]) for key in ("ttft_p50_ms", "chunk_p99_ms")},
            }
    return out


def level_summary(level: dict[str, Any]) -> str:
    parts = []
    for name, path in level["paths"].items():
        if name == "direct":
            continue
        added = path["added"]
        parts.append(
            f"{LABELS.get(name, name)} +{_fmt(added['ttft_p50_ms'])} ms TTFT p50, "
            f"lost {path['chunks_lost_finished']}, {path['unfinished']} unfinished"
        )
    return f"N={level['n']}: " + "; ".join(parts)


def _target(
    name: str, n: int, value: float | None, limit: float | None, unit: str, met: bool | None,
    note: str = "",
) -> dict[str, Any]:  # fmt: skip
    return {"target": name, "n": n, "value": value, "limit": limit, "unit": unit, "met": met,
            "note": note}  # fmt: skip


def _targets(
    levels: list[dict[str, Any]], services: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Issue 22's targets, each met, missed, or not measured (saying why)."""
    services = services or {}
    by_n = {level["n"]: level for level in levels}
    checks: list[dict[str, Any]] = []

    def absent(n: int, *paths: str) -> str:
        """Why a target at N over these paths cannot be checked ("" when it can)."""
        if n not in by_n:
            return f"N={n} is not in this run"
        for path in paths:
            if path not in by_n[n]["paths"]:
                reason = services.get(path, {}).get("reason") or "not in BENCH_PATHS"
                return f"{LABELS[path]} not measured: {reason}"[:300]
        return ""

    def added(n: int, path: str) -> float | None:
        return by_n[n]["paths"][path]["added"]["ttft_p50_ms"]

    for n in (1, 10):
        for ours, theirs in PAIRS:
            name = f"{LABELS[ours]}: added TTFT p50 ≤ {LABELS[theirs]}"
            if why := absent(n, ours, theirs):
                checks.append(_target(name, n, None, None, "ms", None, why))
                continue
            a, b = added(n, ours), added(n, theirs)
            ratio = _ratio(a, b)
            note = f"ratio {ratio}" if ratio is not None else ""
            met = a is not None and b is not None and a <= b
            checks.append(_target(name, n, a, b, "ms", met, note))

    name = "studio, embedded: CPU per stream ≤ half the baseline's"
    if why := absent(100, "studio", "studio_baseline"):
        note = f"{why}; issue 22's figure was {BASELINE_CPU_MS:g} ms"
        studio = by_n[100]["resources"].get("studio", {}) if 100 in by_n else {}
        value = studio.get("cpu_ms_per_stream")
        checks.append(_target(name, 100, value, None, "ms", None, note))
    else:
        ours = by_n[100]["resources"]["studio"]["cpu_ms_per_stream"]
        base = by_n[100]["resources"]["studio_baseline"]["cpu_ms_per_stream"]
        rev = services.get("studio_baseline", {}).get("rev", "")
        note = f"baseline {rev}: {base} ms"
        if rounds := by_n[100].get("cpu_rounds"):
            ours, base, note = _cpu_medians(rounds, by_n[100]["streams"], rev)
        limit = None if base is None else round(base / 2, 2)
        met = ours is not None and limit is not None and ours <= limit
        checks.append(_target(name, 100, ours, limit, "ms", met, note))

    for n in (500, 1000):
        for shape in ("studio", "studio_image"):
            name = f"{LABELS[shape]}: every stream finishes, 0 chunks lost"
            if why := absent(n, shape):
                checks.append(_target(name, n, None, 0, "", None, why))
                continue
            path = by_n[n]["paths"][shape]
            bad = path["chunks_lost"] + path["unverified_streams"]
            met = bad == 0 and path["unfinished"] == 0
            note = f"{path['unfinished']} unfinished, {path['chunks_lost_finished']} lost"
            checks.append(_target(name, n, bad, 0, "chunks", met, note))

    name = f"{LABELS['studio_image']}: added TTFT p50 ≤ half of {LABELS['litellm_2w']}"
    if why := absent(500, "studio_image", "litellm_2w"):
        checks.append(_target(name, 500, None, None, "ms", None, why))
    else:
        a, b = added(500, "studio_image"), added(500, "litellm_2w")
        limit = None if b is None else round(b / 2, 2)
        met = a is not None and limit is not None and a <= limit
        checks.append(_target(name, 500, a, limit, "ms", met))

    for shape in ("studio", "studio_image"):
        name = f"{LABELS[shape]}: memory per open stream < 64 KiB"
        if why := absent(1000, shape):
            checks.append(_target(name, 1000, None, 64, "KiB", None, why))
            continue
        value = by_n[1000]["resources"][shape]["peak_kib_per_stream"]
        checks.append(_target(name, 1000, value, 64, "KiB", value is not None and value < 64))
    return checks


def _write_checks(levels: list[dict[str, Any]], config: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 8's bound, kept: DB writes per generation bounded by the persistence interval
    (creating the draft and generation, marking it running, one save per interval of the
    stream, finishing it, with room for a few more); never one per token."""
    interval = float(os.environ.get("BENCH_GENERATION_PERSIST_INTERVAL", "0.5"))
    checks = []
    for level in levels:
        for shape in STUDIO_SHAPES:
            if shape not in level["paths"]:
                continue
            seconds = max(config["stream_seconds"], level["paths"][shape]["last_text_s"])
            bound = 10 + math.ceil(seconds / interval)
            value = level["resources"][shape].get("db_writes_per_generation")
            met = value is not None and value <= bound
            name = f"{LABELS[shape]}: DB writes per generation"
            checks.append(_target(name, level["n"], value, bound, "", met))
    return checks


def build(
    *,
    config: dict[str, Any],
    levels: list[dict[str, Any]],
    skipped: list[int],
    services: dict[str, dict[str, Any]],
    studio_log_tail: str,
    profile: dict[str, Any] | None = None,
    elapsed: float,
) -> dict[str, Any]:
    analysed = [analyse_level(level, config["tokens"]) for level in levels]
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {k: v for k, v in config.items() if k not in ("database_url",)}
        | {"database": config["database_url"].split(":", 1)[0]},
        "services": services,
        "levels": analysed,
        "skipped_levels": skipped,
        "targets": _targets(analysed, services),
        "checks": _write_checks(analysed, config),
        "elapsed_s": round(elapsed, 1),
        "studio_log_tail": studio_log_tail,
        "profile": profile,
        "definitions": __doc__,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _pair(d: dict[str, Any], a: str, b: str) -> str:
    return f"{_fmt(d.get(a))} / {_fmt(d.get(b))}"


def _row(level: dict[str, Any], name: str) -> str:
    path = level["paths"][name]
    # A latest.json from before issue 22 has the embedded studio's resources under "studio"
    # and no samples or unfinished counts: reprinted with what it has.
    resources = level.get("resources") or {"studio": level.get("studio") or {}}
    res = resources.get(name) or {}
    samples = f"{_fmt(path.get('ttft_samples'))} / {_fmt(path.get('gap_samples'))}"
    unfinished = path.get("unfinished", path["streams"] - path["completed"])
    lost = path.get("chunks_lost_finished", path["chunks_lost"])
    if name == "direct":
        ttft = f"*{_pair(path['ttft_ms'], 'p50', 'p99')}*"
        chunk = f"*{_fmt(path['gap_ms']['p99'])}*"
    else:
        ttft = _pair(path["added"], "ttft_p50_ms", "ttft_p99_ms")
        chunk = _fmt(path["added"]["chunk_p99_ms"])
    return (
        f"| {level['n']} | {LABELS.get(name, name)} | {samples} | {ttft} | {chunk} "
        f"| {lost} | {unfinished} "
        f"| {_fmt(res.get('cpu_ms_per_stream'))} | {_fmt(res.get('peak_kib_per_stream'))} "
        f"| {_fmt(res.get('db_writes_per_generation'))} |"
    )


def _mark(check: dict[str, Any]) -> str:
    if check["met"] is None:
        return "not measured"
    return "met" if check["met"] else "**missed**"


def markdown(results: dict[str, Any]) -> str:
    cfg = results["config"]
    timeouts = cfg.get("timeouts_s") or {}
    timeout_text = ", ".join(f"N={n}: {_fmt(float(t))} s" for n, t in timeouts.items())
    # Levels that ran more streams than N, for their samples (BENCH_MIN_SAMPLES).
    longer = "".join(
        f"; N={lv['n']}: {lv['streams']} streams over {lv['streams'] / lv['n']:g} answers' "
        f"lengths, about {lv['n']} open at once"
        for lv in results.get("levels", [])
        if lv["n"] > 1 and lv.get("streams", lv["n"]) > lv["n"]
    )
    lines = [
        f"Run {results['generated']} on {results['machine']['cpus']} CPU cores, Python "
        f"{results['machine']['python']}; simulator at {cfg['tps']:g} tokens/s after "
        f"{cfg['first_token_delay']:g} s, {cfg['tokens']} tokens per answer; a level's N "
        f"streams started over one answer's length (N=1: {cfg.get('repeats', '?')} streams "
        f"one after another{longer}); level timeouts {timeout_text or '–'}; "
        f"{results['elapsed_s']:.0f} s in all.",
        "",
        "Latencies in ms; *added* = over the direct upstream (the direct rows, in italics, show "
        "their own TTFT and inter-chunk gap); samples = streams with a TTFT / inter-chunk gaps "
        "the percentiles rest on; CPU and memory per stream summed over each path's processes; "
        "DB writes summed over the studio's workers.",
        "",
        "| N | path | samples | added TTFT p50 / p99 | added inter-chunk p99 | chunks lost "
        "| unfinished streams | CPU ms / stream | KiB / stream | DB writes / generation |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    missing = {
        name: " ".join(service.get("reason", "not started").split()).replace("|", "/")
        for name, service in results.get("services", {}).items()
        if service.get("status") != "ok"
    }
    for level in results["levels"]:
        lines += [_row(level, name) for name in level["paths"]]
        lines += [
            f"| {level['n']} | {LABELS.get(name, name)} | **not measured**: "
            f"{reason[:80]}{'…' if len(reason) > 80 else ''} |{' – |' * 7}"
            for name, reason in missing.items()
        ]
    crossed = [
        f"N={level['n']}: {path['across_workers']} of {path['workers_named']}"
        for level in results["levels"]
        for name, path in level["paths"].items()
        if name == "studio_image" and "across_workers" in path
    ]
    if crossed:
        text = "Image shape, streams watched through another worker than the one whose Generate"
        lines += ["", f"{text} started them (the Redis relay): {', '.join(crossed)}."]
    lines += ["", "Paths:", ""]
    for name, service in results.get("services", {}).items():
        label = service.get("label", LABELS.get(name, name))
        if service.get("status") == "ok":
            extra = f" (LiteLLM {service['version']})" if service.get("version") else ""
            lines.append(f"- {label}{extra}")
        else:
            reason = " ".join(service.get("reason", "not started").split())
            lines.append(f"- {LABELS.get(name, name)}: **not measured**: {reason}")
    if results["skipped_levels"]:
        skipped = ", ".join(map(str, results["skipped_levels"]))
        lines.append(f"\n**Skipped for lack of time** (BENCH_DEADLINE): N = {skipped}.")
    lines += ["", "Targets (issue 22):", ""]
    for check in results["targets"]:
        unit = check.get("unit") and " " + check["unit"]
        limit = "" if check["limit"] is None else f" (limit {_fmt(check['limit'])}{unit})"
        note = f"; {check['note']}" if check.get("note") else ""
        lines.append(
            f"- {check['target']} at N={check['n']}: {_fmt(check['value'])}{unit}{limit} — "
            f"{_mark(check)}{note}"
        )
    if results.get("checks"):
        lines += ["", "Also checked (issue 8's bound):", ""]
        for check in results["checks"]:
            lines.append(
                f"- {check['target']} at N={check['n']}: {_fmt(check['value'])} "
                f"(limit {_fmt(check['limit'])}) — {_mark(check)}"
            )
    return "\n".join(lines)


PROJECT_CODE = ("drafts/", "studio/", "prompts/")


# Leaf frames of a thread waiting for work (in C: a queue, the event loop's poll, a lock).
IDLE_LEAVES = (
    "_worker (concurrent/futures/thread.py)",
    "Runner.run (asyncio/runners.py)",
    "Condition.wait (threading.py)",
    "Thread.join (threading.py)",
    "Event.wait (threading.py)",
)


def summarise_profile(raw: str, top: int = 15, rate: int = 100) -> str:
    """py-spy's raw stacks (``--idle``; or working threads only, ``--profile-cpu``), sampled
    ``rate`` times a second → which threads were busy or blocked in work (a database call
    waiting on the disk counts), what they ran (own time), and the project's functions by
    time spent in them or below (inclusive)."""
    threads: dict[str, list[int]] = {}  # thread -> [all samples, working samples]
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    working = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        seen = threads.setdefault(frames[0], [0, 0])
        seen[0] += count
        if frames[-1] in IDLE_LEAVES or len(frames) < 2:
            continue
        seen[1] += count
        working += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames[1:]):
            if "(" in frame and frame.rsplit("(", 1)[1].startswith(PROJECT_CODE):
                inclusive[frame] = inclusive.get(frame, 0) + count
    if not working:
        return "py-spy recorded no working samples.\n"

    def rows(counts: dict[str, int]) -> list[str]:
        ordered = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        return [f"  {100 * c / working:5.1f}%  {name}" for name, c in ordered]

    lines = [
        f"{working} working samples at {rate} Hz (threads waiting for work left out).",
        "",
        "Busiest threads (share of that thread's samples spent working):",
    ]
    busiest = sorted(threads.items(), key=lambda kv: -kv[1][1])[:6]
    for name, (total, busy) in busiest:
        lines.append(f"  {100 * busy / total:5.1f}%  {name}  ({busy} samples)")
    lines += ["", "Own time (top of the stack), share of working samples:", *rows(own)]
    lines += ["", "Project code, inclusive (itself and what it calls):", *rows(inclusive)]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> str | None:
    """A small PNG: added TTFT p50, added inter-chunk p99 and CPU per stream by N, per path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no chart: matplotlib is not installed (pip install -e '.[bench]')"
    levels = results["levels"]
    if not levels:
        return "no chart: no level ran"
    ns = [level["n"] for level in levels]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [
        ("ttft_p50_ms", "added TTFT p50 (ms)"),
        ("chunk_p99_ms", "added inter-chunk delay p99 (ms)"),
    ]
    names = [n for n in LABELS if n != "direct" and any(n in lv["paths"] for lv in levels)]
    for ax, (key, title) in zip(axes, panels, strict=False):
        for name in names:
            values = [level["paths"].get(name, {}).get("added", {}).get(key) for level in levels]
            if any(v is not None for v in values):
                style = "o-" if name in STUDIO_SHAPES else "s--"
                ys = [math.nan if v is None else v for v in values]
                ax.plot(ns, ys, style, label=LABELS[name])
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=10)  # 5 ms and 20 s on one axis
        ax.set_xlabel("concurrent streams N")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    ax = axes[2]
    for name in names:
        values = [lv.get("resources", {}).get(name, {}).get("cpu_ms_per_stream") for lv in levels]
        ax.plot(ns, [math.nan if v is None else v for v in values], "o-", label=LABELS[name])
    ax.set_title("CPU ms per stream (all processes of a path)")
    ax.set_xscale("log")
    ax.set_xlabel("concurrent streams N")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(f"DeepSeek Studio streaming benchmark ({results['generated']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def update_report(results: dict[str, Any], *, root: Path | None = None) -> Path:
    """Replace the generated part of docs/benchmark.md (between the markers) in the checkout
    at ``root`` (this one by default); nothing else is written. Returns the page written."""
    root = ROOT if root is None else root
    doc = root / REPORT_DOC
    text = doc.read_text(encoding="utf-8")
    if REPORT_START not in text or REPORT_END not in text:
        raise RuntimeError(f"{REPORT_DOC} has no {REPORT_START} … {REPORT_END} block")
    chart = Path(os.path.relpath(root / CHART, doc.parent)).as_posix()
    block = f"{REPORT_START}\n{markdown(results)}\n\n![Benchmark chart]({chart})\n"
    pattern = re.compile(re.escape(REPORT_START) + r".*?" + re.escape(REPORT_END), re.DOTALL)
    doc.write_text(pattern.sub(lambda _: block + REPORT_END, text, count=1), encoding="utf-8")
    return doc


def main() -> None:
    """``python -m bench.report``: reprint the table from latest.json."""
    results = json.loads((Path(__file__).parent / "results" / "latest.json").read_text())
    print(markdown(results))  # noqa: T201 — a command-line report


if __name__ == "__main__":
    main()
