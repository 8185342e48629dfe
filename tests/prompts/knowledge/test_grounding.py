"""Retrieval for grounding (prompts/knowledge/grounding.py): which passages a knowledge
variable may draw on, and the best of them for a query — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from prompts.knowledge.actions import add_source, add_source_version
from prompts.knowledge.grounding import retrieve, scope
from prompts.knowledge.parsing import Kind, parse
from studio.workspaces.actions import create_workspace

pytestmark = pytest.mark.django_db

ORBIT = "# Orbit speaker\n\nThe Orbit speaker plays for twelve hours over Bluetooth.\n"


def titles(passages) -> set[str]:
    return {p.version.source.title for p in passages.select_related("version__source")}


def test_empty_tags_and_titles_draw_on_every_source(store, workspace):
    store(title="Lumen sheet")
    store(ORBIT, title="Orbit sheet")
    assert titles(scope(workspace)) == {"Lumen sheet", "Orbit sheet"}


def test_tags_and_titles_narrow_it_case_insensitively(workspace, user):
    document = parse(ORBIT.encode(), kind=Kind.MARKDOWN, filename="o.md")
    add_source(workspace=workspace, user=user, title="Orbit", tags=["Audio"], document=document)
    add_source(workspace=workspace, user=user, title="Lamp", tags=["lumen"], document=document)
    assert titles(scope(workspace, tags=["audio"])) == {"Orbit"}
    assert titles(scope(workspace, sources=[" lamp "])) == {"Lamp"}
    assert titles(scope(workspace, tags=["audio"], sources=["Lamp"])) == {"Orbit", "Lamp"}
    assert not scope(workspace, tags=["nothing"]).exists()


def test_archived_sources_old_versions_and_other_workspaces_are_out(store, workspace, user):
    version = store(title="Lumen sheet")
    newer = parse(b"# Lumen\n\nNow with a battery of 50 hours.\n", kind=Kind.MARKDOWN)
    add_source_version(source=version.source, user=user, document=newer)
    passages = list(scope(workspace))
    assert {p.version.number for p in passages} == {2}
    store(ORBIT, title="Elsewhere", space=create_workspace(name="Other", owner=user))
    assert titles(scope(workspace)) == {"Lumen sheet"}
    version.source.archive()
    assert not scope(workspace).exists()


def test_retrieve_ranks_the_answering_passage_first(store, workspace):
    store()
    hits = retrieve(workspace, query="How long does the battery last?", limit=2)
    assert "twelve hours" in hits[0].passage.text
    assert len(hits) <= 2
    assert retrieve(workspace, query="   ") == []
    chinese = retrieve(workspace, query="怎么调光", tags=["LUMEN"])
    assert "无级调光" in chinese[0].passage.text
