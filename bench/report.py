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
  (a token-level diff), streams that never finished included. The direct run itself is
  checked against the token count the simulator was asked for.
- **CPU / memory per open stream**: the studio process's CPU seconds over the level ÷ N and
  (peak RSS during the level - RSS before it) ÷ N, sampled with psutil every 20 ms.
- **DB writes per generation**: INSERT/UPDATE/DELETE statements the studio ran during the
  level (counted by bench/asgi.py) ÷ generations started.
"""

from __future__ import annotations

import bisect
import difflib
import json
import math
import os
import platform
import re
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
    lost = unverified = 0
    for stream in streams:
        reference = references.get(stream["i"])
        if is_direct:
            lost += max(0, tokens - len(tokenize(stream["text"])))
            continue
        if reference is None:
            unverified += 1
            continue
        lost += _lost(reference, stream["text"])
        ends = _token_ends(reference)
        mine, theirs = _token_times(stream, ends), _token_times(by_i[stream["i"]], ends)
        if not mine or mine[0] is None or theirs[0] is None:
            continue
        for k in range(1, len(ends)):
            if mine[k] is not None and theirs[k] is not None:
                lags.append((mine[k] - mine[0]) - (theirs[k] - theirs[0]))
    errors = [s["error"] for s in streams if s["error"]]
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
        "unverified_streams": unverified,
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


def analyse_level(level: dict[str, Any], tokens: int) -> dict[str, Any]:
    direct_streams = level["paths"]["direct"]["streams"]
    references = _references(direct_streams, tokens)
    count = level.get("count", level["n"])
    out: dict[str, Any] = {"n": level["n"], "streams": count, "ramp_s": level["ramp_s"]}
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
    n = level["n"]
    res = level.get("studio_resources") or {}
    writes = level.get("studio_db_writes", {})
    # Generations the studio created (also those whose streams the level's timeout cut off).
    generations = writes.get("INSERT drafts_generation") or sum(
        1 for s in level["paths"]["studio"]["streams"] if s.get("generation_id")
    )
    total_writes = sum(writes.values())
    out["studio"] = {
        "cpu_s": round(res.get("cpu_s", 0), 3),
        "cpu_ms_per_stream": round(res.get("cpu_s", 0) * 1000 / count, 2),
        "cpu_percent": round(100 * res.get("cpu_s", 0) / res["wall_s"], 1) if res else None,
        "rss_before_mib": round(res.get("rss_before", 0) / 2**20, 1),
        "rss_peak_mib": round(res.get("rss_peak", 0) / 2**20, 1),
        "peak_kib_per_stream": round(
            (res.get("rss_peak", 0) - res.get("rss_before", 0)) / 1024 / n, 1
        ),
        "generations": generations,
        "db_writes": writes,
        "db_writes_per_generation": round(total_writes / generations, 2) if generations else None,
    }
    if "litellm" in out["paths"]:
        lite_res = level.get("litellm_resources") or {}
        out["litellm"] = {
            "cpu_ms_per_stream": round(lite_res.get("cpu_s", 0) * 1000 / count, 2),
            "peak_kib_per_stream": round(
                (lite_res.get("rss_peak", 0) - lite_res.get("rss_before", 0)) / 1024 / n, 1
            ),
        }
        ours, theirs = out["paths"]["studio"]["added"], out["paths"]["litellm"]["added"]
        out["studio_vs_litellm"] = {
            key: _ratio(ours[key], theirs[key]) for key in ("ttft_p50_ms", "chunk_p99_ms")
        }
    return out


def level_summary(level: dict[str, Any]) -> str:
    studio = level["paths"]["studio"]
    added = studio["added"]
    text = (
        f"N={level['n']}: studio added TTFT p50 {added['ttft_p50_ms']} ms, added chunk delay "
        f"p99 {added['chunk_p99_ms']} ms, lost {studio['chunks_lost']}, "
        f"{studio['completed']}/{studio['streams']} completed"
    )
    if "litellm" in level["paths"]:
        lite = level["paths"]["litellm"]["added"]
        text += f"; LiteLLM added TTFT p50 {lite['ttft_p50_ms']} ms"
    return text


def _targets(levels: list[dict[str, Any]], config: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 8's targets, each checked where the run has the N it names."""
    by_n = {level["n"]: level for level in levels}
    checks: list[dict[str, Any]] = []

    def check(name: str, n: int, value: float | None, limit: float, unit: str) -> None:
        if n not in by_n:
            return
        met = value is not None and value < limit
        checks.append(
            {"target": name, "n": n, "value": value, "limit": limit, "unit": unit, "met": met}
        )

    def studio(n: int) -> dict[str, Any]:
        return by_n[n]["paths"]["studio"] if n in by_n else {}

    check("added TTFT p50", 1, studio(1).get("added", {}).get("ttft_p50_ms"), 5, "ms")
    check("added TTFT p50", 500, studio(500).get("added", {}).get("ttft_p50_ms"), 50, "ms")
    check("added inter-chunk p99", 100, studio(100).get("added", {}).get("chunk_p99_ms"), 10, "ms")
    check(
        "added inter-chunk p99", 1000, studio(1000).get("added", {}).get("chunk_p99_ms"), 100, "ms"
    )
    for level in levels:
        path = level["paths"]["studio"]
        lost = path["chunks_lost"] + path["unverified_streams"]
        checks.append(
            {"target": "chunks lost (and unverifiable streams)", "n": level["n"], "value": lost,
             "limit": 0, "unit": "", "met": lost == 0}
        )  # fmt: skip
    if 1000 in by_n:
        memory = by_n[1000]["studio"]["peak_kib_per_stream"]
        check("memory per open stream", 1000, memory, 64, "KiB")
    interval = float(os.environ.get("BENCH_GENERATION_PERSIST_INTERVAL", "0.5"))
    for level in levels:
        # Bounded by the persistence interval: creating the draft and generation, marking it
        # running, one save per interval of the stream, and finishing it (generation, version,
        # draft), with room for a few more; never one per token.
        seconds = max(config["stream_seconds"], level["paths"]["studio"]["last_text_s"])
        bound = 10 + math.ceil(seconds / interval)
        value = level["studio"]["db_writes_per_generation"]
        met = value is not None and value <= bound
        checks.append(
            {"target": f"DB writes per generation ≤ {bound} (interval-bound)", "n": level["n"],
             "value": value, "limit": bound, "unit": "", "met": met}
        )  # fmt: skip
    for level in levels:
        ratio = level.get("studio_vs_litellm")
        if ratio is None:
            continue
        for key, label in (("ttft_p50_ms", "TTFT p50"), ("chunk_p99_ms", "inter-chunk p99")):
            ours = level["paths"]["studio"]["added"][key]
            theirs = level["paths"]["litellm"]["added"][key]
            met = ours is not None and theirs is not None and ours < theirs
            checks.append(
                {"target": f"lower added {label} than LiteLLM", "n": level["n"], "value": ours,
                 "limit": theirs, "unit": "ms", "met": met}
            )  # fmt: skip
    return checks


def build(
    *,
    config: dict[str, Any],
    levels: list[dict[str, Any]],
    skipped: list[int],
    litellm: dict[str, Any],
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
        "litellm": litellm,
        "levels": analysed,
        "skipped_levels": skipped,
        "targets": _targets(analysed, config),
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


def markdown(results: dict[str, Any]) -> str:
    cfg = results["config"]
    lite = results["litellm"]
    lines = [
        f"Run {results['generated']} on {results['machine']['cpus']} CPU cores, Python "
        f"{results['machine']['python']}, {cfg['database']} database; simulator at "
        f"{cfg['tps']:g} tokens/s after {cfg['first_token_delay']:g} s, {cfg['tokens']} tokens "
        f"per answer; streams started over one answer's length; {results['elapsed_s']:.0f} s "
        "in all. Latencies in ms; *added* = over the direct upstream.",
        "",
        "| N | direct TTFT p50 | studio added TTFT p50 / p99 | studio added inter-chunk "
        "p50 / p99 | chunks lost | studio CPU ms / stream | studio KiB / stream | DB writes / "
        "generation | LiteLLM added TTFT p50 / p99 | LiteLLM added inter-chunk p50 / p99 | "
        "studio ÷ LiteLLM (TTFT p50, inter-chunk p99) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in results["levels"]:
        studio = level["paths"]["studio"]
        added = studio["added"]
        lite_path = level["paths"].get("litellm")
        lite_added = lite_path["added"] if lite_path else {}
        lost = f"{studio['chunks_lost']}"
        if studio["completed"] < studio["streams"]:
            lost += f" ({studio['streams'] - studio['completed']} unfinished)"
        if lite_path:
            lost += f" / LiteLLM {lite_path['chunks_lost']}"
        ratio = level.get("studio_vs_litellm") or {}
        lines.append(
            f"| {level['n']} | {_fmt(level['paths']['direct']['ttft_ms']['p50'])} "
            f"| {_pair(added, 'ttft_p50_ms', 'ttft_p99_ms')} "
            f"| {_pair(added, 'chunk_p50_ms', 'chunk_p99_ms')} | {lost} "
            f"| {_fmt(level['studio']['cpu_ms_per_stream'])} "
            f"| {_fmt(level['studio']['peak_kib_per_stream'])} "
            f"| {_fmt(level['studio']['db_writes_per_generation'])} "
            f"| {_pair(lite_added, 'ttft_p50_ms', 'ttft_p99_ms')} "
            f"| {_pair(lite_added, 'chunk_p50_ms', 'chunk_p99_ms')} "
            f"| {_pair(ratio, 'ttft_p50_ms', 'chunk_p99_ms')} |"
        )
    lines.append("")
    if lite["status"] == "ok":
        lines.append(f"LiteLLM {lite['version']} (proxy, one worker) in front of the simulator.")
    else:
        reason = lite.get("reason", "disabled for this run (BENCH_LITELLM=0 / --no-litellm)")
        lines.append(f"**LiteLLM was not measured**: {reason}")
    if results["skipped_levels"]:
        skipped = ", ".join(map(str, results["skipped_levels"]))
        lines.append(f"**Skipped for lack of time** (BENCH_DEADLINE): N = {skipped}.")
    lines += ["", "Targets (issue 8):", ""]
    for check in results["targets"]:
        mark = "met" if check["met"] else "**missed**"
        unit = check["unit"]
        lines.append(
            f"- {check['target']} at N={check['n']}: {_fmt(check['value'])}{unit and ' ' + unit} "
            f"(limit {_fmt(check['limit'])}{unit and ' ' + unit}) — {mark}"
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


def summarise_profile(raw: str, top: int = 15) -> str:
    """py-spy's raw stacks (``--idle``) → which threads were busy or blocked in work (a
    database call waiting on the disk counts), what they ran (own time), and the project's
    functions by time spent in them or below (inclusive)."""
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
        f"{working} working samples at 100 Hz (threads waiting for work left out).",
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
    """A small PNG: added TTFT p50 and added inter-chunk p99 by N, studio vs LiteLLM."""
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
    for ax, (key, title) in zip(axes, panels, strict=False):
        for name, style in (("studio", "o-"), ("litellm", "s--")):
            values = [level["paths"].get(name, {}).get("added", {}).get(key) for level in levels]
            if any(v is not None for v in values):
                ax.plot(ns, [math.nan if v is None else v for v in values], style, label=name)
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=10)  # 5 ms and 20 s on one axis
        ax.set_xlabel("concurrent streams N")
        ax.grid(True, alpha=0.3)
        ax.legend()
    ax = axes[2]
    ax.plot(ns, [level["studio"]["peak_kib_per_stream"] for level in levels], "o-", label="KiB")
    ax.plot(ns, [level["studio"]["cpu_ms_per_stream"] for level in levels], "^-", label="CPU ms")
    ax.set_title("studio memory and CPU per stream")
    ax.set_xscale("log")
    ax.set_xlabel("concurrent streams N")
    ax.grid(True, alpha=0.3)
    ax.legend()
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
