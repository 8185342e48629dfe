"""The campaign board's added time to first token (``make bench-campaign``).

Starts the simulator and the studio like ``bench/run.py`` (its own database, one uvicorn
worker), then measures, on loopback, round after round:

- **12 single generations**: 12 Generate POSTs at once (one per tab, as the workspace's
  Generate sends them), each watched on its own SSE stream; a generation's time to first
  token is from its POST sent to its first ``delta`` frame;
- **a 12-deliverable campaign**: one Generate all POST, the campaign page it redirects to, then
  the board's ONE SSE stream (the page's ``sse-connect``); a
  deliverable's time to first token is from the POST sent to its first ``delta-<id>`` frame.

Both use the bench template (``bench.studio_side``: a fixed-length answer); the simulator's
first-token delay is in both. It prints each side's median and max, and the campaign's
added time per deliverable (campaign minus single, median against median, and the median of
the sorted pairs), and writes them to ``bench/results/campaign-12.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench import run as bench
from bench.loadgen import SSE_CONNECT_RE, SSEParser


async def single(client: httpx.AsyncClient, user: dict, plan: dict, i: int) -> float:
    """One generation as the workspace's Generate starts it; seconds to its first delta."""
    sent = time.perf_counter()
    response = await client.post(
        f"/w/{user['workspace_id']}/generate/",
        data={"version": plan["version_id"], "topic": plan["streams"][i]["topic"]},
        headers={"X-CSRFToken": user["csrftoken"], "HX-Request": "true"},
    )
    match = SSE_CONNECT_RE.search(response.text)
    if response.status_code != 200 or not match:
        raise RuntimeError(f"POST generate: HTTP {response.status_code}")
    first, parser = None, SSEParser()
    async with client.stream("GET", html.unescape(match.group(1))) as events:
        async for chunk in events.aiter_raw():
            for event, _, _ in parser.feed(chunk):
                if event == "delta" and first is None:
                    first = time.perf_counter() - sent
                elif event == "done":
                    if first is None:
                        raise RuntimeError("a generation ended without text")
                    return first
    raise RuntimeError("stream ended without its done event")


async def campaign(client: httpx.AsyncClient, user: dict, campaign_id: int) -> list[float]:
    """Generate all, then the board's one stream; each deliverable's seconds to first delta."""
    sent = time.perf_counter()
    response = await client.post(
        f"/campaigns/{campaign_id}/generate/", headers={"X-CSRFToken": user["csrftoken"]}
    )
    if response.status_code != 302:
        raise RuntimeError(f"POST generate all: HTTP {response.status_code}")
    page = await client.get(response.headers["Location"])  # as the browser follows it
    match = SSE_CONNECT_RE.search(page.text)
    if page.status_code != 200 or not match:
        raise RuntimeError(f"the campaign page: HTTP {page.status_code}, no board stream")
    first: dict[str, float] = {}
    parser = SSEParser()
    async with client.stream("GET", html.unescape(match.group(1))) as events:
        async for chunk in events.aiter_raw():
            for event, _, _ in parser.feed(chunk):
                if event.startswith("delta-"):
                    first.setdefault(event, time.perf_counter() - sent)
                elif event == "end":
                    return sorted(first.values())
    raise RuntimeError("the board's stream ended without its end event")


async def measure(url: str, user: dict, plan: dict, campaign_id: int, n: int, rounds: int):
    cookies = {name: user[name] for name in ("sessionid", "csrftoken")}
    limits = httpx.Limits(max_connections=4 * n)
    singles: list[list[float]] = []
    boards: list[list[float]] = []
    alone: list[float] = []
    async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=60, limits=limits) as c:
        await single(c, user, plan, 0)  # warm-up: imports, pools, caches
        await campaign(c, user, campaign_id)
        for _ in range(rounds):
            alone.append(await single(c, user, plan, 0))
            ttft = await asyncio.gather(*(single(c, user, plan, i) for i in range(n)))
            singles.append(sorted(ttft))
            boards.append(await campaign(c, user, campaign_id))
    return alone, singles, boards


def report(
    alone: list[float], singles: list[list[float]], boards: list[list[float]], n: int
) -> str:
    flat_s = [t * 1000 for r in singles for t in r]
    flat_b = [t * 1000 for r in boards for t in r]
    if any(len(board) != n for board in boards):
        raise RuntimeError(f"a board streamed {[len(b) for b in boards]} deliverables, not {n}")
    # Pairs: the k-th fastest deliverable against the k-th fastest single generation.
    pairs = [(b - s) * 1000 for rs, rb in zip(singles, boards, strict=True)
             for s, b in zip(rs, rb, strict=True)]  # fmt: skip

    def row(name: str, ms: list[float]) -> str:
        return f"| {name} | {statistics.median(ms):.1f} | {max(ms):.1f} |"

    lines = [
        "| time to first token | median ms | max ms |",
        "|---|---:|---:|",
        row("1 generation alone (the floor)", [t * 1000 for t in alone]),
        row(f"{n} single generations (each its own POST and stream)", flat_s),
        row(f"a {n}-deliverable campaign (Generate all, one stream)", flat_b),
        row("**added per deliverable** (k-th fastest vs k-th fastest)", pairs),
    ]
    median = statistics.median(flat_b) - statistics.median(flat_s)
    floor = statistics.median(flat_b) - statistics.median(t * 1000 for t in alone)
    lines.append(
        f"\nAdded time to first token per deliverable, median vs median: {median:.1f} ms against"
        f" {n} single generations at once, {floor:.1f} ms against one generation alone."
    )
    return "\n".join(lines)


def setup_campaign(plan_file: Path, n: int, env: dict[str, str]) -> int:
    """Run with the studio's environment: bench-0's campaign of ``n`` deliverables of the
    bench template (each topic an override); its id."""
    env = env | {"BENCH_CAMPAIGN_PLAN": str(plan_file), "BENCH_CAMPAIGN_N": str(n)}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.campaign", "--setup"],
        cwd=bench.ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def _create() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from bench.studio_side import TEMPLATE_SLUG, topic
    from prompts.models import PromptTemplate
    from studio.campaigns.actions import add_deliverable
    from studio.campaigns.models import Campaign
    from studio.workspaces.models import Workspace

    plan = json.loads(Path(os.environ["BENCH_CAMPAIGN_PLAN"]).read_text())
    workspace = Workspace.objects.get(pk=plan["users"][0]["workspace_id"])
    template = PromptTemplate.objects.get(slug=TEMPLATE_SLUG)
    board = Campaign.objects.create(workspace=workspace, title="Bench launch", product="Lumen")
    for i in range(int(os.environ["BENCH_CAMPAIGN_N"])):
        overrides = {"topic": topic(1000 + i)}
        add_deliverable(
            campaign=board, template=template, channel="email", count=1, overrides=overrides
        )
    print(board.pk)  # noqa: T201 — read by setup_campaign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliverables", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=5)
    # Long enough that no answer ends before the campaign page (and its stream) is loaded.
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--out", type=Path, default=bench.RESULTS / "campaign-12.txt")
    parser.add_argument("--work-dir", type=Path, default=bench.BENCH_DIR / ".work")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        _create()
        return 0
    n = args.deliverables
    config = bench.parse_config(
        [
            "--ns",
            "1",
            "--tokens",
            str(args.tokens),
            "--no-litellm",
            "--work-dir",
            str(args.work_dir),
        ]
    )
    config.work_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        simulator, simulator_url = bench.start_simulator(config, stack)
        env = bench.studio_env(config, simulator_url)
        plan = bench.prepare_database(config, env, n)
        plan_file = config.work_dir / "plan.json"
        campaign_id = setup_campaign(plan_file, n, env)
        studio, url = bench.start_studio(config, env, stack)
        simulator.wait_ready(f"{simulator_url}/models", timeout=30, auth="sk-bench")
        studio.wait_ready(f"{url}/healthz", timeout=60)
        first = plan["users"][0]
        user = first | bench.log_in(url, first["username"], plan["password"])
        alone, singles, boards = asyncio.run(measure(url, user, plan, campaign_id, n, args.rounds))
    text = (
        f"{args.rounds} rounds of {n}, {config.database_url.split(':')[0]} database, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU cores; simulator first-token delay "
        f"{config.first_token_delay:g} s, {config.tokens} tokens per answer.\n\n"
        f"{report(alone, singles, boards, n)}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    bench.say(f"campaign: {args.out}\n{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
