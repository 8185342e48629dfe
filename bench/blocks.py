"""CPU of the live Markdown blocks alone: the answers of the last ``make bench`` fed to
``drafts.markdown_stream.BlockSplitter`` in the simulator's tokens, as a generation's runner
feeds them. No HTTP, no database writes: what a change to the splitter costs or saves,
without the bench's noise (docs/decisions/0061-a-new-line-looked-at-after-a-blank-one.md).

    .venv/bin/python -m bench.blocks [database] [rounds]

The database is the embedded studio's of the last run (``bench/.work/bench.sqlite3``): its
finished generations' texts, at most 200.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

DATABASE = Path(__file__).resolve().parent / ".work" / "bench.sqlite3"


def answers(database: Path, limit: int = 200) -> list[str]:
    """The texts of the last ``limit`` finished generations in ``database``."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT text FROM drafts_generation WHERE status = 'done' AND text != ''"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    return [text for (text,) in rows]


def measure(texts: list[str], rounds: int = 5) -> tuple[float, float]:
    """CPU ms per answer (the best of ``rounds``) and parses per answer."""
    from drafts import markdown_stream
    from studio.deepseek.simulator.pen import tokenize

    pieces = [tokenize(text) for text in texts]
    parse, parses = markdown_stream._blocks.parse, 0

    def counted(source: str):
        nonlocal parses
        parses += 1
        return parse(source)

    markdown_stream._blocks.parse = counted
    try:
        best = float("inf")
        for _ in range(rounds):
            parses, started = 0, time.process_time()
            for answer in pieces:
                splitter = markdown_stream.BlockSplitter()
                for piece in answer:
                    splitter.feed(piece)
                splitter.close()
            best = min(best, time.process_time() - started)
    finally:
        markdown_stream._blocks.parse = parse
    return 1000 * best / len(texts), parses / len(texts)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    database = Path(sys.argv[1]) if len(sys.argv) > 1 else DATABASE
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    texts = answers(database)
    cpu, parses = measure(texts, rounds)
    report = f"{len(texts)} answers: {cpu:.2f} ms CPU an answer, {parses:.1f} parses"
    print(report)  # noqa: T201 — a command-line tool


if __name__ == "__main__":
    main()
