"""One small interface over two full-text engines: ``search(passages, query, limit=…)``.

- PostgreSQL: the ``search_vector`` column (GIN index), ``websearch_to_tsquery`` and
  ``ts_rank`` with the ``english`` configuration (stems, drops stop words).
- SQLite: the ``knowledge_passage_fts`` FTS5 table (``porter unicode61`` tokenizer) and
  ``bm25``.

Both receive the same segmented query (segmenting.py: words and CJK bigrams), any term
matching, passages with more and rarer terms ranked first. Which engine runs is decided by
the database in use, so the same tests run on both. ``passages`` is the scope (a QuerySet,
e.g. ``Passage.objects.searchable(workspace)``): nothing outside it is ever returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, QuerySet

from .models import Passage
from .segmenting import query_terms

FTS_TABLE = "knowledge_passage_fts"
CONFIG = "english"  # PostgreSQL's text search configuration (the trigger uses the same)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # higher is better; comparable within one search only
    terms: tuple[str, ...]  # the query's terms, for highlighting


def search(passages: QuerySet[Passage], query: str, *, limit: int = 10) -> list[Hit]:
    """The best ``limit`` passages of ``passages`` for ``query``, best first."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    engine = _postgresql if connection.vendor == "postgresql" else _sqlite
    ranked = engine(passages, terms, limit)
    # Not the version's whole text (megabytes, once per hit) nor the index columns.
    rows = Passage.objects.select_related("version__source").defer(
        "version__text", "terms", "search_vector"
    )
    found = rows.in_bulk([pk for pk, _ in ranked])
    return [Hit(found[pk], score, tuple(terms)) for pk, score in ranked if pk in found]


def _postgresql(passages: QuerySet[Passage], terms: list[str], limit: int):
    # websearch syntax: "or" between the terms (a term is letters, digits or CJK: no operator
    # can hide in one, and "or" itself is a stop word, dropped by query_terms).
    query = SearchQuery(" or ".join(terms), search_type="websearch", config=CONFIG)
    rows = (
        passages.filter(search_vector=query)
        .annotate(score=SearchRank(F("search_vector"), query))
        .order_by("-score", "pk")
        .values_list("pk", "score")[:limit]
    )
    return [(pk, float(score)) for pk, score in rows]


def _sqlite(passages: QuerySet[Passage], terms: list[str], limit: int):
    # Each term as an FTS5 string ("…", quotes doubled): never read as query syntax.
    match = " OR ".join('"{}"'.format(term.replace('"', '""')) for term in terms)
    try:
        scope, params = passages.values("pk").query.sql_with_params()
    except EmptyResultSet:  # passages.none()
        return []
    # "+rowid": the scope filters the matches; without the plus SQLite drives the FTS lookup
    # by the scope's rowids, one full-text query per passage in scope (21 s → 34 ms over
    # 10,000 passages: tests/bench/test_knowledge_search.py).
    sql = (
        f"SELECT rowid, bm25({FTS_TABLE}) AS rank FROM {FTS_TABLE} "  # noqa: S608 — constants
        f"WHERE {FTS_TABLE} MATCH %s AND +rowid IN ({scope}) ORDER BY rank, rowid LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *params, limit])
        return [(pk, -rank) for pk, rank in cursor.fetchall()]  # bm25: lower is better
