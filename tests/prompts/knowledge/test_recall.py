"""Retrieval quality, measured: recall@5 of a labelled set on the database in use.

``recall/queries.json`` pairs about thirty questions, in English and Chinese, with the passage
that answers them (its source file and heading) in the ``recall/`` corpus: a product sheet and
a CLI reference in both languages. Run on SQLite (FTS5) by default and on PostgreSQL with
DATABASE_URL; both must find the answer in the top five for at least 80% of the queries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from prompts.knowledge.actions import add_source
from prompts.knowledge.models import Passage
from prompts.knowledge.parsing import Kind, parse
from prompts.knowledge.search import search

CORPUS = Path(__file__).parent / "recall"
QUERIES = json.loads((CORPUS / "queries.json").read_text("utf-8"))
K = 5
THRESHOLD = 0.8


@pytest.fixture
def corpus(workspace, user):
    for path in sorted(CORPUS.glob("*.md")):
        document = parse(path.read_bytes(), kind=Kind.MARKDOWN, filename=path.name)
        add_source(workspace=workspace, user=user, title=path.name, tags=[], document=document)
    return Passage.objects.searchable(workspace)


def test_the_labelled_set_is_big_enough_and_bilingual():
    assert len(QUERIES) >= 30
    assert sum(any("\u4e00" <= c <= "\u9fff" for c in q["query"]) for q in QUERIES) >= 10


def test_recall_at_5(corpus):
    misses = []
    for item in QUERIES:
        hits = search(corpus, item["query"], limit=K)
        found = [(h.passage.version.source.title, h.passage.heading) for h in hits]
        if (item["source"], item["heading"]) not in found:
            misses.append(f"{item['query']!r} → {found[:2]}")
    recall = 1 - len(misses) / len(QUERIES)
    print(f"\nrecall@{K} on {connection.vendor}: {recall:.2f} ({len(QUERIES)} queries)")  # noqa: T201
    for miss in misses:
        print("  missed:", miss)  # noqa: T201
    assert recall >= THRESHOLD, misses
