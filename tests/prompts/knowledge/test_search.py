"""The search interface, the same tests on SQLite (FTS5, bm25) and PostgreSQL (GIN, websearch,
ts_rank): run them with and without DATABASE_URL."""

from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompts.knowledge.actions import add_source_version
from prompts.knowledge.models import Passage
from prompts.knowledge.parsing import Kind, parse
from prompts.knowledge.search import search
from studio.workspaces.actions import create_workspace


def _headings(hits):
    return [hit.passage.heading for hit in hits]


def test_english_words_find_their_passage_stemmed(store, workspace):
    store()
    scope = Passage.objects.searchable(workspace)
    assert _headings(search(scope, "battery"))[0] == "Lumen lamp › Battery"
    assert _headings(search(scope, "charging hours"))[0] == "Lumen lamp › Battery"  # charges
    assert _headings(search(scope, "how is the DIMMING?"))[0] == "Lumen lamp"


def test_chinese_is_searchable_through_bigrams(store, workspace):
    store()
    scope = Passage.objects.searchable(workspace)
    assert _headings(search(scope, "调光")) == ["Lumen lamp › 调光"]
    assert _headings(search(scope, "怎么调节亮度"))[0] == "Lumen lamp › 调光"
    assert search(scope, "电池") == []


def test_more_matching_terms_rank_higher_and_scores_are_ordered(store, workspace):
    store("# A\n\nlamp\n\n# B\n\nlamp battery usb\n\n# C\n\nbattery")
    hits = search(Passage.objects.searchable(workspace), "lamp battery usb")
    assert _headings(hits)[0] == "B"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].terms == ("lamp", "battery", "usb")


def test_the_scope_holds_other_workspaces_archived_sources_and_old_versions_out(
    store, workspace, user
):
    other = create_workspace(name="Other", owner=user)
    store("# Theirs\n\nbattery secret", space=other)
    old = store("# Old\n\nbattery old text")
    add_source_version(
        source=old.source, user=user, document=parse(b"# New\n\nbattery new", kind=Kind.MARKDOWN)
    )
    archived = store("# Archived\n\nbattery archived")
    archived.source.archive()
    assert _headings(search(Passage.objects.searchable(workspace), "battery")) == ["New"]
    assert _headings(search(Passage.objects.searchable(other), "battery")) == ["Theirs"]


def test_query_syntax_is_never_interpreted(store, workspace):
    store()
    scope = Passage.objects.searchable(workspace)
    for query in [
        '"',
        'battery" OR "x',
        "NEAR(a b)",
        "lumen*",
        "-battery",
        "a & b | !c",
        "'",
        "():",
    ]:
        search(scope, query)  # no syntax error from either engine
    assert _headings(search(scope, 'battery" OR "'))[0] == "Lumen lamp › Battery"
    assert search(scope, "") == search(scope, "the of and") == []


def test_limit_and_empty_scope(store, workspace):
    store("\n\n".join(f"# S{i}\n\nbattery {i}" for i in range(8)))
    scope = Passage.objects.searchable(workspace)
    assert len(search(scope, "battery", limit=5)) == 5
    assert search(scope, "battery", limit=0) == []
    assert search(scope.none(), "battery") == []


def test_the_index_follows_deleted_passages(store, workspace):
    """The database keeps its index in step (triggers): deleted rows are never found."""
    store()
    workspace.knowledge_sources.all().delete()
    assert search(Passage.objects.all(), "battery") == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            table = "knowledge_passage_fts"
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH 'battery'")
            assert cursor.fetchone() == (0,)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=80))
def test_any_query_text_is_answered_without_an_engine_error(store, workspace, query):
    """Whatever is typed (quotes, operators, NUL, emoji, any script) is only ever terms."""
    if not Passage.objects.exists():
        store()
    hits = search(Passage.objects.searchable(workspace), query, limit=5)
    assert len(hits) <= 5
