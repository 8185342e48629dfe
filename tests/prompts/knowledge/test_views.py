"""The knowledge pages: search with highlights, add a source, a source's versions; roles and
isolation (the URL sweeps in tests/test_isolation.py and tests/test_field_sweep.py cover them
too)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from prompts.knowledge.models import Source
from studio.workspaces.actions import add_member, create_workspace

from .documents import blank_pdf, zip_bomb

HX = {"HX-Request": "true"}


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def reviewer(client, workspace, other_user):
    add_member(workspace=workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    return client


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_search_shows_passages_with_highlights(owner, store, workspace):
    version = store()
    page = owner.get(f"/w/{workspace.pk}/knowledge/", {"q": "battery 调光"}).content.decode()
    assert "<mark>battery</mark>" in page and "<mark>调光</mark>" in page
    assert f'href="/w/{workspace.pk}/knowledge/{version.source_id}/?version=1#passage-' in page
    assert "Lumen sheet" in page and "<html" in page


def test_search_answers_htmx_with_the_results_partial(owner, store, workspace):
    store()
    response = owner.get(f"/w/{workspace.pk}/knowledge/", {"q": "battery"}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="results" aria-live="polite"><div hx-disable>')
    empty = owner.get(f"/w/{workspace.pk}/knowledge/", {"q": "zebra"}, headers=HX)
    assert "No passage matches" in empty.content.decode()


def test_source_text_in_results_is_escaped_and_marks_are_ours(owner, store, workspace):
    """Plain text is stored as written; on the page every piece is escaped, <mark> is ours."""
    store("See <script>alert(1)</script> <b>battery</b>", kind="text")
    page = owner.get(f"/w/{workspace.pk}/knowledge/", {"q": "script battery"}).content.decode()
    assert "<script>alert" not in page and "<b>" not in page
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in page
    assert "&lt;b&gt;<mark>battery</mark>&lt;/b&gt;" in page


def test_an_editor_adds_a_markdown_source_and_sees_it(owner, workspace):
    data = b"# Lumen\n\n<script>alert(1)</script>The battery lasts twelve hours."
    response = owner.post(
        f"/w/{workspace.pk}/knowledge/new/",
        {
            "title": "",
            "tags": "Lumen, sheet",
            "file": _upload("lumen.md", data),
            "text_format": "markdown",
        },
    )
    source = Source.objects.get()
    assert response.status_code == 302 and response["Location"] == source.get_absolute_url()
    assert (source.title, source.tags) == ("Lumen", ["lumen", "sheet"])
    assert "alert" not in source.current_version().text
    page = owner.get(source.get_absolute_url()).content.decode()
    assert "The battery lasts twelve hours." in page and "Version 1" in page


def test_pasted_text_and_one_document_only(owner, workspace):
    url = f"/w/{workspace.pk}/knowledge/new/"
    response = owner.post(url, {"title": "Notes", "text": "Plain notes.", "text_format": "text"})
    assert response.status_code == 302
    both = owner.post(url, {"text": "x", "url": "https://example.com", "text_format": "text"})
    assert "Give one document" in both.content.decode()
    none = owner.post(url, {"text_format": "text"})
    assert "Give one document" in none.content.decode()
    assert Source.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", blank_pdf(), "no text layer"),
        ("bomb.docx", zip_bomb(60 * 1024 * 1024), "zip bomb"),
        ("latin1.txt", "café".encode("latin-1"), "not valid UTF-8"),
        ("photo.png", b"\x89PNG", "not a format the studio reads"),
    ],
)
def test_a_refused_upload_says_why_and_stores_nothing(owner, workspace, name, data, message):
    response = owner.post(
        f"/w/{workspace.pk}/knowledge/new/", {"file": _upload(name, data), "text_format": "text"}
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not Source.objects.exists()


def test_a_url_is_refused_clearly_where_fetching_is_off(owner, workspace):
    response = owner.post(
        f"/w/{workspace.pk}/knowledge/new/", {"url": "https://example.com/x", "text_format": "text"}
    )
    assert "may not fetch URLs" in response.content.decode() and not Source.objects.exists()


def test_a_new_version_and_the_older_one_still_shown(owner, store, workspace):
    source = store().source
    response = owner.post(
        source.get_absolute_url(),
        {"upload": "", "text": "# Lumen\n\nSixteen hours now.", "text_format": "markdown"},
    )
    assert response.status_code == 302 and source.versions.count() == 2
    assert "Sixteen hours now." in owner.get(source.get_absolute_url()).content.decode()
    old = owner.get(source.get_absolute_url(), {"version": "1"}).content.decode()
    assert "The battery lasts twelve hours" in old and "Sixteen" not in old
    bad = owner.post(source.get_absolute_url(), {"upload": "", "text_format": "text"})
    assert bad.status_code == 400 and source.versions.count() == 2


def test_archive_hides_a_source_from_search_and_restore_brings_it_back(owner, store, workspace):
    source = store().source
    search = f"/w/{workspace.pk}/knowledge/"
    owner.post(source.get_absolute_url(), {"archive": ""})
    source.refresh_from_db()
    assert source.archived_at
    assert "No passage matches" in owner.get(search, {"q": "battery"}).content.decode()
    owner.post(source.get_absolute_url(), {"restore": ""})
    assert "<mark>battery</mark>" in owner.get(search, {"q": "battery"}).content.decode()


def test_reviewers_read_but_do_not_manage(reviewer, store, workspace):
    source = store().source
    assert (
        "<mark>battery</mark>"
        in reviewer.get(f"/w/{workspace.pk}/knowledge/", {"q": "battery"}).content.decode()
    )
    page = reviewer.get(source.get_absolute_url()).content.decode()
    assert "Lumen lamp" in page and 'name="archive"' not in page and "New version" not in page
    assert "Add a source" not in reviewer.get(f"/w/{workspace.pk}/knowledge/").content.decode()
    assert reviewer.post(source.get_absolute_url(), {"archive": ""}).status_code == 403
    refused = reviewer.post(
        f"/w/{workspace.pk}/knowledge/new/", {"text": "x", "text_format": "text"}
    )
    assert refused.status_code == 403 and Source.objects.count() == 1
    source.refresh_from_db()
    assert source.archived_at is None


def test_another_workspaces_source_is_404(owner, store, workspace, other_user):
    theirs = create_workspace(name="Theirs", owner=other_user)
    source = store(space=theirs).source
    assert owner.get(f"/w/{theirs.pk}/knowledge/").status_code == 404
    assert owner.get(f"/w/{workspace.pk}/knowledge/{source.pk}/").status_code == 404
    assert (
        owner.post(f"/w/{workspace.pk}/knowledge/{source.pk}/", {"archive": ""}).status_code == 404
    )


def test_the_workspace_navigation_links_to_knowledge(owner, workspace):
    page = owner.get(f"/w/{workspace.pk}/").content.decode()
    assert f'href="/w/{workspace.pk}/knowledge/"' in page


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (
            "page.html",
            b"<html><head><title>Lumen</title><script>alert(1)</script>"
            b"<style>p{color:red}</style></head><body><p onclick='steal()'>Twelve hours."
            b"<img src=x onerror=alert(2)><iframe src='javascript:alert(3)'>x</iframe></p>"
            b"<a href='javascript:alert(4)'>link</a></body></html>",
        ),
        (
            "notes.md",
            b"# Lumen\n\n<script>alert(1)</script>\n\nTwelve hours. <img src=x onerror=alert(2)>"
            b"\n\n<div onclick='steal()'>link</div>",
        ),
    ],
)
def test_hostile_markup_is_stored_as_text_only(owner, workspace, name, data):
    """HTML with scripts and Markdown with raw HTML: their text is kept, no markup, no script
    and no handler; the source's page shows it escaped."""
    owner.post(
        f"/w/{workspace.pk}/knowledge/new/", {"file": _upload(name, data), "text_format": "text"}
    )
    version = Source.objects.get().current_version()
    stored = version.text + " ".join(
        t + h for t, h in version.passages.values_list("text", "heading")
    )
    assert "Twelve hours." in stored and "link" in stored
    for bad in ("<", "alert", "steal", "onerror", "onclick", "javascript", "color:red"):
        assert bad not in stored, bad
    page = owner.get(version.source.get_absolute_url()).content.decode()
    assert "alert(" not in page and "steal()" not in page
