"""knowledge 0002: the full-text index of the database in use (FTS5 table and triggers on
SQLite, GIN index and trigger on PostgreSQL) is created, dropped and created again, and rows
stored before it are found after it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from prompts.knowledge.models import Passage
from prompts.knowledge.search import search

BEFORE = [("knowledge", "0001_initial")]
AFTER = [("knowledge", "0002_search_index")]


def _index_objects() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE 'knowledge_passage_fts%'"
            )
        else:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname = 'knowledge_passage_search_gin'"
                " UNION SELECT tgname FROM pg_trigger WHERE tgname LIKE 'knowledge_passage_%'"
            )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_index_migrates_back_and_forth_and_finds_rows_stored_before_it(store, workspace):
    created = _index_objects()
    assert created
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert _index_objects() == set()
    store("# Before\n\nbattery stored before the index")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert _index_objects() == created
    assert [h.passage.heading for h in search(Passage.objects.all(), "battery")] == ["Before"]
    store("# After\n\nbattery stored after")
    assert "After" in [h.passage.heading for h in search(Passage.objects.all(), "battery")]
