"""Ingesting: a source, its version and its passages in one transaction; new versions."""

import pytest
from django.db import IntegrityError

from prompts.knowledge import actions
from prompts.knowledge.actions import add_source, add_source_version, clean_tags
from prompts.knowledge.models import Passage, Source, SourceVersion
from prompts.knowledge.parsing import Kind, parse

from .conftest import LUMEN


def test_a_source_is_stored_with_its_version_and_passages(store, workspace, user):
    version = store()
    source = version.source
    assert (source.title, source.tags, source.owner, source.workspace) == (
        "Lumen sheet",
        ["lumen"],
        user,
        workspace,
    )
    assert (version.number, version.kind, version.filename) == (1, Kind.MARKDOWN, "lumen.md")
    passages = list(version.passages.all())
    assert [p.heading for p in passages] == [
        "Lumen lamp",
        "Lumen lamp › Battery",
        "Lumen lamp › 调光",
    ]
    assert [p.position for p in passages] == [0, 1, 2]
    assert "调光 光，" not in passages[2].terms and "无级 级调 调光" in passages[2].terms
    assert "Battery" in passages[1].terms  # the heading is searched with the text


def test_the_title_defaults_to_the_documents_heading_then_its_name(workspace, user):
    document = parse(LUMEN.encode(), kind=Kind.MARKDOWN, filename="lumen.md")
    assert (
        add_source(
            workspace=workspace, user=user, title=" ", tags=[], document=document
        ).source.title
        == "Lumen lamp"
    )
    plain = parse(b"no heading", kind=Kind.TEXT, filename="notes.txt")
    assert (
        add_source(workspace=workspace, user=user, title="", tags=[], document=plain).source.title
        == "notes.txt"
    )


def test_a_new_upload_is_the_next_version_and_the_old_passages_stay(store, user):
    first = store()
    document = parse(b"# Lumen lamp\n\nNew battery: sixteen hours.", kind=Kind.MARKDOWN)
    second = add_source_version(source=first.source, user=user, document=document)
    assert second.number == 2 and second.source == first.source
    assert first.source.current_version() == second
    assert first.passages.count() == 3 and second.passages.count() == 1
    assert list(SourceVersion.objects.current()) == [second]


def test_nothing_is_stored_when_a_passage_fails(store, workspace, user, monkeypatch):
    """One transaction: the source and version go with the passages that could not be saved."""

    def broken(passages, **kwargs):
        raise IntegrityError("disk full")

    monkeypatch.setattr(actions.Passage.objects, "bulk_create", broken)
    with pytest.raises(IntegrityError):
        store()
    assert not Source.objects.exists() and not SourceVersion.objects.exists()
    assert not Passage.objects.exists()


def test_archive_and_restore(store):
    source = store().source
    source.archive()
    assert source.archived_at and not Source.objects.active().exists()
    source.restore()
    assert Source.objects.active().get() == source


def test_tags_are_cleaned():
    assert clean_tags(" Pricing, lumen ，pricing,, Big   Launch ") == [
        "pricing",
        "lumen",
        "big launch",
    ]
    assert clean_tags("") == []
