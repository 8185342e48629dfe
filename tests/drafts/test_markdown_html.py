"""Markdown rendering is bounded: a size cap that loses nothing, and one render per version."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from django.urls import reverse

from drafts import markdown_html
from drafts.actions import add_version, share_version
from drafts.models import Draft


@pytest.fixture
def draft(workspace, user, product_template):
    return Draft.objects.create(
        workspace=workspace,
        title="Launch",
        created_by=user,
        template_version=product_template.current_version(),
    )


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The texts actually rendered (not served from the cache)."""
    seen: list[str] = []
    real = markdown_html.render_markdown

    def counting(text: str):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(markdown_html, "render_markdown", counting)
    return seen


def test_text_over_the_cap_is_shown_in_full_unformatted_with_a_notice(monkeypatch):
    monkeypatch.setattr(markdown_html, "MAX_MARKDOWN_CHARS", 20)
    text = "# Title\n\n**bold** <script>x</script> & more"

    html = markdown_html.render_markdown(text)

    assert "too long to format" in html
    assert "<pre># Title\n\n**bold** &lt;script&gt;x&lt;/script&gt; &amp; more</pre>" in html
    assert "<h1>" not in html and "<script>" not in html


def test_text_within_the_cap_is_formatted():
    assert markdown_html.render_markdown("# Title") == "<h1>Title</h1>\n"


def test_an_over_cap_version_shows_on_the_draft_and_share_pages(client, user, draft, monkeypatch):
    monkeypatch.setattr(markdown_html, "MAX_MARKDOWN_CHARS", 30)
    text = "# Intro\n\nfirst\n\n## Part\n\n" + "many words " * 10
    version = add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)
    link = share_version(version=version, user=user)
    client.force_login(user)

    page = client.get(draft.get_absolute_url())
    shared = Client().get(link.get_absolute_url())

    for response in (page, shared):
        html = response.content.decode()
        assert response.status_code == 200 and "too long to format" in html
        assert "many words " * 10 in html and "<h2>Part</h2>" not in html


def test_a_version_is_rendered_once_across_page_views(client, user, draft, renders):
    text = "Preamble.\n\n# One\n\nFirst.\n\n## Two\n\nSecond."
    add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)
    client.force_login(user)

    first = client.get(draft.get_absolute_url()).content.decode()
    rendered = len(renders)
    second = client.get(draft.get_absolute_url()).content.decode()

    assert rendered == 3 and len(renders) == 3  # the preamble and two sections, once
    assert "<h2>Two</h2>" in first and "<h2>Two</h2>" in second


def test_the_share_page_and_html_export_render_a_version_once(client, user, draft, renders):
    version = add_version(draft_id=draft.pk, text="# Shared", source="edited", author_id=user.pk)
    link = share_version(version=version, user=user)
    client.force_login(user)
    export = reverse("drafts:export", args=[draft.pk, version.number, "html"])

    pages = [Client().get(link.get_absolute_url()) for _ in range(2)] + [client.get(export)]

    assert renders == ["# Shared"]
    assert all("<h1>Shared</h1>" in page.content.decode() for page in pages)


def test_the_cache_keeps_versions_apart(user, draft):
    one = add_version(draft_id=draft.pk, text="# One", source="edited", author_id=user.pk)
    two = add_version(draft_id=draft.pk, text="# Two", source="edited", author_id=user.pk)

    assert markdown_html.version_html(one) == "<h1>One</h1>\n"
    assert markdown_html.version_html(two) == "<h1>Two</h1>\n"


def test_the_plain_text_projection_is_the_words_a_reader_sees():
    text = (
        "# Title\n\nSome **bold** and [a link](https://example.com) `code`.\nNext line.\n\n"
        "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n中文**粗体**。<script>x</script>"
    )
    assert markdown_html.plain_text(text) == (
        "Title Some bold and a link code. Next line. one two a b 1 2 中文粗体。<script>x</script>"
    )  # as text: the template escapes it


def test_each_sanitizer_is_built_once_and_keeps_its_own_marks():
    """``sanitize`` reuses one nh3 cleaner per set of marks; a diff's marks never widen what
    plain Markdown output may hold."""
    marked = '<p><ins class="w">new</ins><del class="w">old</del><img src=x onerror=alert(1)></p>'
    markdown_html._cleaner.cache_clear()

    plain = [markdown_html.sanitize(marked) for _ in range(3)]
    diff = [markdown_html.sanitize(marked, {"ins": {"class"}, "del": {"class"}}) for _ in range(3)]

    assert plain[0] == "<p>new<del>old</del></p>" and len(set(plain)) == 1
    assert diff[0] == '<p><ins class="w">new</ins><del class="w">old</del></p>'
    assert markdown_html._cleaner.cache_info().currsize == 2


def test_one_sanitizer_serves_threads_at_once():
    """The cleaner is shared by the runner's loop and the panel threads (nh3 cleans outside
    the GIL): the same input gives the same, safe output in every thread."""
    html = '<p><a href="javascript:alert(1)">x</a><script>y</script>z</p>' * 500
    expected = markdown_html.sanitize(html)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: markdown_html.sanitize(html), range(64)))

    assert set(results) == {expected}
    assert "javascript" not in expected and "<script" not in expected
