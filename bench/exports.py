"""What the expensive renders cost: a draft as DOCX and as sanitised HTML.

Run as ``python -m bench.exports`` (``--profile`` for the DOCX profile).

Builds a 5,000-cell Markdown table and two ~800 KB documents (prose, and one big table), then
times the DOCX export and the HTML render of each, in wall seconds and CPU seconds of this
process. No network, no database: ``DEBUG=1`` is enough. ``--profile`` also writes the top of
a cProfile of the 5,000-cell DOCX export to ``bench/results/exports-profile.txt``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

import django  # noqa: E402

django.setup()

from drafts.exports import markdown_to_docx  # noqa: E402
from drafts.markdown_html import render_markdown  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def table(rows: int, cols: int) -> str:
    """A Markdown table of ``rows`` body rows (plus a header row) and ``cols`` columns."""
    head = "| " + " | ".join(f"h{c}" for c in range(cols)) + " |"
    rule = "|" + "---|" * cols
    body = ("| " + " | ".join(f"r{r}c{c}" for c in range(cols)) + " |" for r in range(rows))
    return "\n".join([head, rule, *body])


def prose(size: int) -> str:
    """Headings, paragraphs with emphasis and lists, repeated to about ``size`` characters."""
    block = (
        "## Section\n\nSome **bold** and *italic* text with `code` and a [link](https://x.test)."
        " Another sentence to make the paragraph longer than a line.\n\n- one\n- two\n\n"
    )
    return block * (size // len(block) + 1)


def measure(what: str, fn: Callable[[], object]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        result = fn()
        outcome = f"{len(result):>10,} bytes out" if hasattr(result, "__len__") else ""
    except Exception as exc:  # a refusal (over a cap or the time budget) is a result too
        outcome = f"refused: {type(exc).__name__}"
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{what:<44} {wall:8.2f} s wall {cpu:8.2f} s CPU  {outcome}")  # noqa: T201


def profile_docx(text: str) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(markdown_to_docx, text)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(25)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "exports-profile.txt"
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    header = "cProfile of markdown_to_docx(a 5,000-cell table), top 25 by cumulative time\n"
    path.write_text(header + "\n".join(lines).strip() + "\n", encoding="utf-8")
    print(f"profile written to {path}")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="write exports-profile.txt")
    parser.add_argument("--cells", type=int, default=5_000, help="cells of the small table")
    args = parser.parse_args()
    cols = 5
    small = table(args.cells // cols - 1, cols)
    long_prose = prose(800_000)
    big_table = table(800_000 // 60, cols)
    print(  # noqa: T201
        f"table: {args.cells:,} cells, {len(small):,} chars; prose: {len(long_prose):,} chars;"
        f" big table: {len(big_table):,} chars, {(len(big_table.splitlines()) - 1) * cols:,} cells"
    )
    measure(f"DOCX, {args.cells:,}-cell table", lambda: markdown_to_docx(small))
    measure(f"HTML, {args.cells:,}-cell table", lambda: render_markdown(small))
    measure("DOCX, 800 KB prose", lambda: markdown_to_docx(long_prose))
    measure("HTML, 800 KB prose", lambda: render_markdown(long_prose))
    measure("DOCX, 800 KB table", lambda: markdown_to_docx(big_table))
    measure("HTML, 800 KB table", lambda: render_markdown(big_table))
    if args.profile:
        profile_docx(small)


if __name__ == "__main__":
    main()
