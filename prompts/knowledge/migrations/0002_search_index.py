"""The full-text index of passages, one per engine, kept up to date by the database itself.

- PostgreSQL: a GIN index on ``search_vector`` and a trigger that fills it from ``terms``
  (the built-in ``tsvector_update_trigger``, english configuration) on every insert/update;
  rows stored before it are indexed by it.
- SQLite: an external-content FTS5 table over ``terms`` (porter stemming, unicode61) and the
  three triggers SQLite's documentation gives to keep it in step with the table.

Any other database gets no index (search then needs one of these two). A later migration
that rebuilds ``knowledge_passage`` on SQLite (most ALTERs there copy the table) drops its
triggers: call ``create_index`` again after it (and ``rebuild`` the FTS table).
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE INDEX knowledge_passage_search_gin ON knowledge_passage USING gin (search_vector)",
    "CREATE TRIGGER knowledge_passage_search_update BEFORE INSERT OR UPDATE ON knowledge_passage"
    " FOR EACH ROW EXECUTE FUNCTION"
    " tsvector_update_trigger(search_vector, 'pg_catalog.english', terms)",
    "UPDATE knowledge_passage SET search_vector = to_tsvector('pg_catalog.english', terms)",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS knowledge_passage_search_update ON knowledge_passage",
    "DROP INDEX IF EXISTS knowledge_passage_search_gin",
]
SQLITE = [
    "CREATE VIRTUAL TABLE knowledge_passage_fts USING fts5(terms, content='knowledge_passage',"
    " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER knowledge_passage_fts_insert AFTER INSERT ON knowledge_passage BEGIN"
    " INSERT INTO knowledge_passage_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER knowledge_passage_fts_delete AFTER DELETE ON knowledge_passage BEGIN"
    " INSERT INTO knowledge_passage_fts(knowledge_passage_fts, rowid, terms)"
    " VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER knowledge_passage_fts_update AFTER UPDATE ON knowledge_passage BEGIN"
    " INSERT INTO knowledge_passage_fts(knowledge_passage_fts, rowid, terms)"
    " VALUES ('delete', old.id, old.terms);"
    " INSERT INTO knowledge_passage_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "INSERT INTO knowledge_passage_fts(knowledge_passage_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS knowledge_passage_fts_insert",
    "DROP TRIGGER IF EXISTS knowledge_passage_fts_delete",
    "DROP TRIGGER IF EXISTS knowledge_passage_fts_update",
    "DROP TABLE IF EXISTS knowledge_passage_fts",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


create_index = _run({"postgresql": POSTGRESQL, "sqlite": SQLITE})
drop_index = _run({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
