"""Where the time to the first token goes, one generation at a time (``make trace``).

Starts the simulator and the studio (``bench.trace_asgi``: the bench's app with time marks)
like ``bench/run.py``, then runs generations one after another through the real endpoints
(the Generate POST, then the SSE stream) and splits each one's time to the first token into
the segments between marks, on the system's monotonic clock. The segments follow each other,
so they add up to the time the client measured; "DeepSeek" is the simulator's own share,
which the direct path has too. Prints a table (median, min, max) and writes it to
``bench/results/trace-1.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import os
import platform
import statistics
import time
from pathlib import Path

import httpx

from bench import run as bench
from bench.loadgen import SSE_CONNECT_RE, SSEParser
from bench.services import sampling

# (segment, from mark, to mark); "client …" marks are the trace client's own. The request
# to DeepSeek starts inside the view's trip (the client asked before the rows are stored,
# GENERATION_EARLY_REQUEST), or after its commit, when the runner starts.
SEGMENTS = [
    ("client → studio", "client POST sent", "generate request in"),
    ("middleware, role check", "generate request in", "view trip in"),
    ("the view's trip, to the client asked", "view trip in", "client"),
    ("client → request sent", "client", "upstream send"),
    ("DeepSeek (simulator)", "upstream send", "upstream first text"),
    ("first text → frame sent", "upstream first text", "first delta sent"),
    ("frame → client", "first delta sent", "client first delta"),
]
# Beside the path above, not on it when the request leaves early.
ALONGSIDE = [
    ("the view's trip (_start), to its commit", "view trip in", "committed"),
    ("commit → runner", "committed", "runner"),
]
UPSTREAM = "DeepSeek (simulator)"


async def generate(client: httpx.AsyncClient, user: dict, plan: dict, i: int) -> dict[str, float]:
    """One generation, watched to its end; the client's marks."""
    marks = {"client POST sent": time.perf_counter()}
    response = await client.post(
        f"/w/{user['workspace_id']}/generate/",
        data={"version": plan["version_id"], "topic": plan["streams"][i]["topic"]},
        headers={"X-CSRFToken": user["csrftoken"], "HX-Request": "true"},
    )
    marks["client POST answered"] = time.perf_counter()
    match = SSE_CONNECT_RE.search(response.text)
    if response.status_code != 200 or not match:
        raise RuntimeError(f"POST generate: HTTP {response.status_code}")
    parser = SSEParser()
    async with client.stream("GET", html.unescape(match.group(1))) as events:
        async for chunk in events.aiter_raw():
            for event, _, _ in parser.feed(chunk):
                if event == "delta":
                    marks.setdefault("client first delta", time.perf_counter())
                elif event == "done":
                    return marks
    raise RuntimeError("stream ended without its done event")


async def trace(url: str, user: dict, plan: dict, count: int) -> list[dict[str, float]]:
    cookies = {name: user[name] for name in ("sessionid", "csrftoken")}
    async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=30) as client:
        await generate(client, user, plan, count)  # warm-up: imports, pools, caches
        await client.get("/__trace__")
        traced = []
        for i in range(count):
            marks = await generate(client, user, plan, i)
            for name, at in (await client.get("/__trace__")).json():
                marks.setdefault(name, at)  # the first of each: the POST's, the first frame
            traced.append(marks)
            await asyncio.sleep(0.2)  # nothing of this generation is left running
        return traced


def table(traced: list[dict[str, float]]) -> str:
    def row(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return f"| {name} | {statistics.median(ms):.2f} | {min(ms):.2f} | {max(ms):.2f} |"

    rows = [row(name, [m[b] - m[a] for m in traced]) for name, a, b in SEGMENTS]
    ttft = [m["client first delta"] - m["client POST sent"] for m in traced]
    upstream = [m["upstream first text"] - m["upstream send"] for m in traced]
    rows.append(row("**time to first token**", ttft))
    added = [t - u for t, u in zip(ttft, upstream, strict=True)]
    rows.append(row("**added** (without DeepSeek's share)", added))
    rows.append(row("POST answered (the panel; hidden by DeepSeek)", [
        m["client POST answered"] - m["client POST sent"] for m in traced]))  # fmt: skip
    rows += [row(name, [m[b] - m[a] for m in traced]) for name, a, b in ALONGSIDE]
    head = ["| segment | median ms | min | max |", "|---|---:|---:|---:|"]
    return "\n".join(head + rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--out", type=Path, default=bench.RESULTS / "trace-1.txt")
    parser.add_argument("--work-dir", type=Path, default=bench.BENCH_DIR / ".work")
    parser.add_argument("--tps", default="50", help="the simulator's tokens per second")
    args = parser.parse_args(argv)
    config = bench.parse_config(
        ["--ns", "1", "--tokens", "20", "--tps", args.tps, "--no-litellm",
         "--work-dir", str(args.work_dir)]
    )  # fmt: skip
    config.work_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        simulator, simulator_url = bench.start_simulator(config, stack)
        env = bench.studio_env(config, simulator_url)
        plan = bench.prepare_database(config, env, args.generations + 1)
        studio, url = bench.start_studio(config, env, stack, app="bench.trace_asgi")
        simulator.wait_ready(f"{simulator_url}/models", timeout=30, auth="sk-bench")
        studio.wait_ready(f"{url}/healthz", timeout=60)
        first = plan["users"][0]
        user = first | bench.log_in(url, first["username"], plan["password"])
        with sampling(studio.pid) as used:  # the studio's CPU, its workers' included
            traced = asyncio.run(trace(url, user, plan, args.generations))
    text = (
        f"{args.generations} generations one after another, {config.database_url.split(':')[0]}"
        f" database, Python {platform.python_version()}, {os.cpu_count()} CPU cores; "
        f"simulator first-token delay {config.first_token_delay:g} s; the studio's CPU "
        f"{used['cpu_s'] * 1000 / args.generations:.1f} ms per generation.\n\n"
        f"{table(traced)}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    bench.say(f"trace: {args.out}\n{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
