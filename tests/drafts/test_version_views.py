"""Editing with conflicts, compare, restore, status, the drafts list, export and share links."""

import io

import docx
import pytest
from django.test import Client
from django.urls import reverse

from drafts.actions import add_version, share_version
from drafts.models import Draft, DraftVersion
from studio.audit.origin import Origin

from .hostile import HOSTILE, Elements, assert_neutralised

HTMX = {"HX-Request": "true"}


@pytest.fixture
def draft(workspace, user, product_template):
    draft = Draft.objects.create(
        workspace=workspace,
        title="Aurora launch",
        created_by=user,
        template_version=product_template.current_version(),
    )
    add_version(draft_id=draft.pk, text="Bright light for late nights.", source="generated",
                author_id=user.pk)  # fmt: skip
    return draft


def edit(client, draft, text, base, **extra):
    data = {"text": text, "base": base, **extra}
    return client.post(reverse("drafts:edit", args=[draft.pk]), data, headers=HTMX)


# --- Editing -------------------------------------------------------------------------------


def test_the_editor_page_holds_the_latest_text_and_its_version(client, user, draft):
    client.force_login(user)

    html = client.get(reverse("drafts:edit", args=[draft.pk])).content.decode()

    assert '<textarea id="editor-text" name="text"' in html
    assert "Bright light for late nights.</textarea>" in html
    assert 'name="base" id="editor-base" value="1"' in html
    assert 'hx-trigger="input delay:1s, keep-now, submit, save-now"' in html
    assert "Saved · version 1" in html


def test_a_save_creates_a_version_and_moves_the_base(client, user, draft):
    client.force_login(user)

    response = edit(client, draft, "Warm light for late nights.", 1)

    html = response.content.decode()
    assert "<html" not in html and html.strip().startswith('<span id="save-state"')
    assert 'data-state="saved"' in html and "Saved · version 2" in html
    assert 'id="editor-base" value="2" hx-swap-oob="true"' in html
    assert '<div id="conflict" hx-swap-oob="true">' in html  # any old conflict is cleared
    assert "Warm light" not in html  # the textarea is never sent back while typing goes on
    version = draft.versions.get(number=2)
    assert (version.text, version.source, version.based_on) == ("Warm light for late nights.",
                                                                "edited", 1)  # fmt: skip


def test_a_save_from_an_old_version_is_a_conflict_that_keeps_the_editors_text(
    client, user, other_user, draft
):
    """Another tab saved version 2; this tab, still on version 1, saves: refused, shown."""
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Bright light for long nights.", source="edited",
                author_id=user.pk)  # fmt: skip

    response = edit(client, draft, "Bright lamp for late nights.", 1)

    html = response.content.decode()
    assert 'data-state="conflict"' in html and "Not saved — conflict" in html
    assert 'id="editor-base" value="1"' in html  # still based on what it was
    assert "A newer version was saved while you were editing" in html
    assert "Version 2 (Edited, by hamlet)" in html
    # Both texts, with the differences marked word by word.
    assert "long</del>" in html and "late</ins>" in html
    assert "light</del>" in html and "lamp</ins>" in html
    assert 'name="resolve" value="2"' in html
    assert draft.versions.count() == 2  # nothing written


def test_keeping_my_text_after_a_conflict_saves_it_on_top(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Theirs", source="edited", author_id=user.pk)

    response = edit(client, draft, "Mine", 1, resolve="2")

    assert "Saved · version 3" in response.content.decode()
    texts = list(draft.versions.order_by("number").values_list("text", flat=True))
    assert texts == ["Bright light for late nights.", "Theirs", "Mine"]  # theirs is kept too


def test_without_htmx_a_save_redirects_and_a_conflict_renders_the_page_with_my_text(
    client, user, draft
):
    client.force_login(user)
    url = reverse("drafts:edit", args=[draft.pk])

    saved = client.post(url, {"text": "New text", "base": 1}, follow=True)
    conflict = client.post(url, {"text": "My <b>unsaved</b> words", "base": 1})

    assert "Saved as version 2." in saved.content.decode()
    html = conflict.content.decode()
    assert "<html" in html and 'role="alert"' in html
    assert "My &lt;b&gt;unsaved&lt;/b&gt; words</textarea>" in html  # escaped, kept


def test_a_garbled_save_loses_nothing(client, user, draft):
    client.force_login(user)

    response = edit(client, draft, "Keep me", "not-a-number")

    html = response.content.decode()
    assert response.status_code == 200 and 'data-state="error"' in html
    assert "your text is still in the editor" in html
    assert draft.versions.count() == 1


def test_the_same_text_twice_adds_no_version(client, user, draft):
    client.force_login(user)
    edit(client, draft, "Once", 1)
    response = edit(client, draft, "Once", 2)
    assert "Saved · version 2" in response.content.decode() and draft.versions.count() == 2


# --- Compare, restore, status ---------------------------------------------------------------


def test_compare_shows_two_versions_side_by_side_with_a_diff(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Bright lamp for late nights.", source="edited",
                author_id=user.pk)  # fmt: skip

    html = client.get(reverse("drafts:compare", args=[draft.pk])).content.decode()

    assert "v1 · Generated" in html and "v2 · Edited" in html
    assert "light</del>" in html and "lamp</ins>" in html
    assert "1 words added, 1 removed" in html


def test_compare_renders_the_markdown_with_the_changes_marked_and_nothing_active(
    client, user, draft
):
    client.force_login(user)
    add_version(draft_id=draft.pk, text=HOSTILE, source="edited", author_id=user.pk)
    add_version(draft_id=draft.pk, text=HOSTILE.replace("**bold**", "**bolder**") + "\n\n- one",
                source="edited", author_id=user.pk)  # fmt: skip

    html = client.get(reverse("drafts:compare", args=[draft.pk]), {"a": 2, "b": 3}).content
    html = html.decode()

    assert "<h1>Plan</h1>" in html and "##" not in html and "**" not in html
    assert "<strong><del " in html and "bold</del></strong>" in html
    assert "bolder</ins></strong>" in html and "<li><ins " in html
    assert "&lt;script&gt;" in html
    assert_neutralised(html.split('id="comparison"')[1].split("</details>")[0])


def test_the_list_shows_an_excerpt_as_words_not_markdown(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text=HOSTILE, source="edited", author_id=user.pk)

    html = client.get(reverse("drafts:list", args=[draft.workspace_id])).content.decode()

    assert "Plan Some bold text. &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "# Plan" not in html and "**bold**" not in html


def test_compare_in_chinese_marks_characters(client, user, workspace):
    client.force_login(user)
    draft = Draft.objects.create(workspace=workspace, title="新品", created_by=user)
    for text in ["我们的产品很好用。", "我们的产品非常好用。"]:
        add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)

    response = client.get(reverse("drafts:compare", args=[draft.pk]), {"a": 1, "b": 2},
                          headers={**HTMX, "HX-Target": "comparison"})  # fmt: skip

    html = response.content.decode()
    assert "<html" not in html and 'id="comparison"' in html
    assert "很</del>" in html and "非常</ins>" in html


def test_compare_with_one_version_says_so(client, user, draft):
    client.force_login(user)
    html = client.get(reverse("drafts:compare", args=[draft.pk])).content.decode()
    assert "only one version so far" in html


def test_restore_adds_the_old_text_as_the_newest_version(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="A worse take", source="edited", author_id=user.pk)

    response = client.post(reverse("drafts:restore", args=[draft.pk, 1]), headers=HTMX)

    html = response.content.decode()
    assert 'id="draft-panel"' in html and "v3 · Restored" in html
    latest = draft.versions.get(number=3)
    assert (latest.text, latest.source, latest.based_on) == (
        "Bright light for late nights.", "restored", 1)  # fmt: skip


def test_the_panel_offers_restore_only_for_an_older_version(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Second", source="edited", author_id=user.pk)

    latest = client.get(draft.get_absolute_url()).content.decode()
    older = client.get(draft.get_absolute_url(), {"v": 1}).content.decode()

    assert "Restore v" not in latest and "Restore v1 as the newest version" in older


def test_picking_an_old_version_on_the_draft_page_puts_it_in_the_url(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Second", source="edited", author_id=user.pk)
    page = f"http://testserver{draft.get_absolute_url()}"
    in_workspace = f"http://testserver{draft.workspace.get_absolute_url()}?draft={draft.pk}"

    picked = client.get(draft.get_absolute_url(), {"v": 1}, headers=HTMX | {"HX-Current-URL": page})
    beside_the_form = client.get(
        draft.get_absolute_url(), {"v": 1}, headers=HTMX | {"HX-Current-URL": in_workspace}
    )

    assert picked["HX-Push-Url"] == f"{draft.get_absolute_url()}?v=1"
    assert "Restore v1 as the newest version" in picked.content.decode()
    assert "HX-Push-Url" not in beside_the_form  # the workspace's URL stays


def add_edits(draft, user, count):
    for n in range(count):
        add_version(draft_id=draft.pk, text=f"Take {n}", source="edited", author_id=user.pk)


def chips(html: str) -> list[str]:
    """The version numbers the panel's version list links to, in order."""
    nav = html[html.index('id="version-list"') :]
    links = [attrs for tag, attrs in Elements(nav[: nav.index("</nav>")]).found if tag == "a"]
    return [a["href"].split("?v=")[1].split("&")[0] for a in links if "data-all-versions" not in a]


def test_a_long_history_names_the_newest_versions_and_one_click_shows_all(client, user, draft):
    client.force_login(user)
    add_edits(draft, user, 24)  # v2..v25

    latest = client.get(draft.get_absolute_url()).content.decode()
    older = client.get(draft.get_absolute_url(), {"v": 2}).content.decode()
    everything = client.get(draft.get_absolute_url(), {"v": 2, "versions": "all"},
                            headers=HTMX).content.decode()  # fmt: skip

    assert chips(latest) == [str(n) for n in range(25, 5, -1)]
    assert "Show all 25 versions" in latest and "?v=25&amp;versions=all" in latest
    assert chips(older) == [str(n) for n in range(25, 5, -1)] + ["2"]  # the one shown, too
    assert "Take 0" in older and 'aria-current="true"' in older
    assert chips(everything) == [str(n) for n in range(25, 0, -1)]
    assert "Show all" not in everything and "?v=7&amp;versions=all" in everything


def test_a_history_that_fits_offers_no_show_all(client, user, draft):
    client.force_login(user)
    add_edits(draft, user, 19)  # 20 versions

    html = client.get(draft.get_absolute_url(), {"v": 1}).content.decode()

    assert chips(html) == [str(n) for n in range(20, 0, -1)] and "Show all" not in html


@pytest.mark.parametrize("page", ["drafts:detail", "drafts:compare"])
def test_a_page_reads_the_text_of_only_the_versions_it_shows(client, user, draft, page):
    """The version list names versions; their texts and their generations' prompts stay put."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    add_edits(draft, user, 30)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(page, args=[draft.pk]), {"v": 3})

    assert response.status_code == 200
    texts = [q["sql"] for q in queries if '"drafts_draftversion"."text"' in q["sql"]]
    assert len(texts) == 1, texts  # the version shown (compare: the two compared, in one)
    assert not any('"drafts_generation"."messages"' in q["sql"] for q in queries
                   if '"drafts_draftversion"' in q["sql"])  # fmt: skip


def test_a_reviewer_reads_the_editor_compare_and_old_versions_without_controls(
    client, user, other_user, draft
):
    """Every page a reviewer can open shows no button that only earns a 403."""
    from studio.workspaces.actions import add_member

    add_member(workspace=draft.workspace, user=other_user, role="reviewer")
    add_version(draft_id=draft.pk, text="Second", source="edited", author_id=user.pk)
    client.force_login(other_user)

    editor = client.get(reverse("drafts:edit", args=[draft.pk])).content.decode()
    compare = client.get(reverse("drafts:compare", args=[draft.pk])).content.decode()
    older = client.get(draft.get_absolute_url(), {"v": 1}).content.decode()

    assert "data-role-note" in editor and 'spellcheck="true" readonly' in editor
    edit_url = reverse("drafts:edit", args=[draft.pk])
    assert f'action="{edit_url}"' not in editor and f'hx-post="{edit_url}"' not in editor
    assert "data-autosave" not in editor and ">Save<" not in editor
    assert "v1 · Generated" in compare and "Restore v" not in compare
    for control in ["Restore v", "/follow-up/", "/share/", "/edit/"]:
        assert control not in older
    assert "/status/" in older  # reviewers may set a draft's status
    client.force_login(user)
    assert "Restore v1" in client.get(reverse("drafts:compare", args=[draft.pk])).content.decode()


def test_status_can_be_set_and_bad_values_change_nothing(client, user, draft):
    client.force_login(user)
    url = reverse("drafts:status", args=[draft.pk])

    client.post(url, {"status": "review"}, headers=HTMX)
    client.post(url, {"status": "nonsense"}, headers=HTMX)

    draft.refresh_from_db()
    assert draft.status == "review"


# --- Drafts list ----------------------------------------------------------------------------


def make_drafts(workspace, user, count, template_version=None, prefix="Draft"):
    for i in range(count):
        d = Draft.objects.create(workspace=workspace, title=f"{prefix} {i}", created_by=user,
                                 template_version=template_version)  # fmt: skip
        add_version(draft_id=d.pk, text=f"body {i} of {prefix}", source="generated",
                    author_id=user.pk)  # fmt: skip


@pytest.mark.parametrize("count", [3, 45])
def test_the_list_makes_the_same_number_of_queries_for_any_number_of_drafts(
    client, user, workspace, product_template, django_assert_max_num_queries, count
):
    make_drafts(workspace, user, count, product_template.current_version())
    client.force_login(user)
    url = reverse("drafts:list", args=[workspace.pk])

    with django_assert_max_num_queries(8):  # session, user, workspace, 3 filters, count, page
        response = client.get(url, {"q": "body", "sort": "title"})

    assert response.status_code == 200
    assert response.content.decode().count("data-draft=") == min(count, 20)


def test_the_list_searches_titles_and_text_and_filters(client, user, other_user, workspace,
                                                       demo_templates):  # fmt: skip
    from studio.workspaces.models import Membership

    Membership.objects.create(workspace=workspace, user=other_user)
    email = next(t for t in demo_templates if t.slug == "marketing-email").current_version()
    make_drafts(workspace, user, 2, prefix="Lamp")
    make_drafts(workspace, other_user, 2, email, prefix="Newsletter")
    Draft.objects.filter(title="Lamp 1").update(status="approved")
    add_version(draft_id=Draft.objects.get(title="Lamp 0").pk, text="中文的灯",
                source="edited", author_id=user.pk)  # fmt: skip
    client.force_login(user)
    url = reverse("drafts:list", args=[workspace.pk])

    def titles(**params):
        html = client.get(url, params, headers={**HTMX, "HX-Target": "draft-results"})
        return sorted(d.title for d in html.context["page"].object_list)

    assert titles(q="newsletter") == ["Newsletter 0", "Newsletter 1"]  # title, any case
    assert titles(q="body 1 of") == ["Lamp 1", "Newsletter 1"]  # text
    assert titles(q="中文") == ["Lamp 0"]
    assert titles(template=email.template_id) == ["Newsletter 0", "Newsletter 1"]
    assert titles(author=other_user.pk) == ["Newsletter 0", "Newsletter 1"]
    assert titles(status="approved") == ["Lamp 1"]
    assert titles(status="bogus", author="x") == ["Lamp 0", "Lamp 1", "Newsletter 0",
                                                  "Newsletter 1"]  # fmt: skip
    html = client.get(url, {"q": "nothing like this"}).content.decode()
    assert "No drafts match." in html


def test_the_list_pages_and_sorts(client, user, workspace):
    make_drafts(workspace, user, 25)
    client.force_login(user)
    url = reverse("drafts:list", args=[workspace.pk])

    first = client.get(url, {"sort": "title"})
    second = client.get(url, {"sort": "title", "page": 2})

    assert [d.title for d in first.context["page"].object_list][:3] == ["Draft 0", "Draft 1",
                                                                        "Draft 10"]  # fmt: skip
    assert len(second.context["page"].object_list) == 5
    assert "sort=title&amp;page=2" in first.content.decode()  # links keep the filters


def test_another_users_workspace_list_is_not_found(client, other_user, workspace):
    client.force_login(other_user)
    assert client.get(reverse("drafts:list", args=[workspace.pk])).status_code == 404


# --- Export ---------------------------------------------------------------------------------


def test_export_markdown_is_the_text_as_written_under_the_drafts_title(client, user, draft):
    client.force_login(user)

    response = client.get(reverse("drafts:export", args=[draft.pk, 1, "md"]))

    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="aurora-launch-v1.md"'
    assert response.content.decode() == "# Aurora launch\n\nBright light for late nights."


def test_an_export_whose_text_has_its_own_title_gets_no_second_one(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="# Aurora\n\nBright.", source="edited", author_id=user.pk)

    md = client.get(reverse("drafts:export", args=[draft.pk, 2, "md"])).content.decode()
    html = client.get(reverse("drafts:export", args=[draft.pk, 2, "html"])).content.decode()

    assert md == "# Aurora\n\nBright."
    assert "<title>Aurora launch</title>" in html and html.count("<h1>") == 1


def test_export_html_is_a_sanitized_document(client, user, draft):
    client.force_login(user)
    first = client.get(reverse("drafts:export", args=[draft.pk, 1, "html"])).content.decode()
    assert "<h1>Aurora launch</h1>" in first  # no title of its own: the draft's
    add_version(draft_id=draft.pk, text=HOSTILE, source="generated", author_id=user.pk)

    html = client.get(reverse("drafts:export", args=[draft.pk, 2, "html"])).content.decode()

    assert html.startswith("<!doctype html>") and "<h1>Plan</h1>" in html
    assert "<title>Aurora launch</title>" in html
    assert "<strong>bold</strong>" in html and "&lt;script&gt;" in html
    assert_neutralised(html)


def test_export_docx_opens_with_headings_and_formatting(client, user, draft):
    client.force_login(user)
    text = (
        "# 发布计划\n\nIntro with **bold** and *em*.\n\n## Steps\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |"
    )
    add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)

    response = client.get(reverse("drafts:export", args=[draft.pk, 2, "docx"]))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    document = docx.Document(io.BytesIO(response.content))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs == [
        ("Heading 1", "发布计划"),
        ("Normal", "Intro with bold and em."),
        ("Heading 2", "Steps"),
        ("List Bullet", "one"),
        ("List Bullet", "two"),
    ]
    bold = [r.text for r in document.paragraphs[1].runs if r.bold]
    assert bold == ["bold"]
    assert document.tables[0].cell(1, 1).text == "2"
    assert document.core_properties.title == "Aurora launch"
    # The version's author, not the library ("python-docx").
    assert document.core_properties.author == user.get_username()
    assert document.core_properties.last_modified_by == user.get_username()


def test_unknown_export_format_is_404(client, user, draft):
    client.force_login(user)
    assert client.get(reverse("drafts:export", args=[draft.pk, 1, "exe"])).status_code == 404


# --- Share links ----------------------------------------------------------------------------


def test_a_share_link_shows_one_version_read_only_without_login(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text=HOSTILE, source="generated", author_id=user.pk)

    panel = client.post(reverse("drafts:share", args=[draft.pk, 2]), headers=HTMX)
    link = draft.share_links.get()
    anonymous = Client().get(link.get_absolute_url())

    assert link.get_absolute_url() in panel.content.decode()
    html = anonymous.content.decode()
    assert anonymous.status_code == 200 and "<h1>Plan</h1>" in html
    body = html.split('id="shared-body"')[1].split("</article>")[0]
    assert_neutralised(body)
    assert 'href="/drafts/' not in html and "Edit" not in html
    assert anonymous["Cache-Control"] == "no-store"
    assert anonymous["Referrer-Policy"] == "no-referrer"


def test_a_revoked_link_stops_working(client, user, draft):
    client.force_login(user)
    link = share_version(version=draft.versions.get(), user=user)

    response = client.post(reverse("drafts:revoke_share", args=[link.pk]), headers=HTMX)

    assert link.get_absolute_url() not in response.content.decode()
    assert Client().get(link.get_absolute_url()).status_code == 404
    assert Client().get("/s/not-a-token/").status_code == 404


@pytest.mark.parametrize("debug", [False, True])
def test_a_revoked_or_unknown_link_answers_the_studios_own_404_page(user, draft, settings, debug):
    """Also in DEBUG (``make run``): a reader never gets Django's debug page."""
    settings.DEBUG = debug
    link = share_version(version=draft.versions.get(), user=user)
    link.revoke()

    for url in (link.get_absolute_url(), "/s/not-a-token/"):
        response = Client().get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert "This share link does not work" in html and "studio.css" in html
        assert "ShareLink" not in html and "Traceback" not in html
        assert response["Referrer-Policy"] == "no-referrer"


def test_the_anonymous_share_page_has_no_simulator_notice_or_shortcuts(
    client, user, draft, workspace, settings
):
    """Studio chrome, for a reader through a link; signed-in pages keep both."""
    settings.DEEPSEEK_OFFLINE = True
    link = share_version(version=draft.versions.get(), user=user)
    client.force_login(user)

    shared = Client().get(link.get_absolute_url()).content.decode()
    studio = client.get(workspace.get_absolute_url()).content.decode()

    assert "Offline simulator" not in shared and "data-shortcuts-open" not in shared
    assert "shortcuts-dialog" not in shared
    assert "Offline simulator" in studio and "data-shortcuts-open" in studio


def test_an_unknown_page_answers_the_studios_own_404_page(client, user):
    client.force_login(user)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Back to the studio" in response.content.decode()


def test_the_share_page_answers_429_past_its_limit_per_address(user, draft, settings):
    """Page views are counted too: each one of a large version costs a render."""
    settings.RATELIMIT_ROUTES = {"drafts:shared": "2/m"}
    link = share_version(version=draft.versions.get(), user=user)
    reader, other = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="198.51.100.8")

    answers = [reader.get(link.get_absolute_url()).status_code for _ in range(3)]
    refused = reader.get(link.get_absolute_url())

    assert answers == [200, 200, 429] and refused.status_code == 429
    assert "Slow down a little" in refused.content.decode() and int(refused["Retry-After"]) > 0
    assert other.get(link.get_absolute_url()).status_code == 200


def test_exports_answer_429_past_their_limit(client, user, draft, settings):
    settings.RATELIMIT_ROUTES = {"drafts:export": "1/m"}
    client.force_login(user)
    url = reverse("drafts:export", args=[draft.pk, 1, "docx"])

    assert [client.get(url).status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize(
    "name, method, args",
    [
        ("drafts:edit", "get", lambda d, v: [d.pk]),
        ("drafts:edit", "post", lambda d, v: [d.pk]),
        ("drafts:compare", "get", lambda d, v: [d.pk]),
        ("drafts:restore", "post", lambda d, v: [d.pk, 1]),
        ("drafts:status", "post", lambda d, v: [d.pk]),
        ("drafts:export", "get", lambda d, v: [d.pk, 1, "md"]),
        ("drafts:share", "post", lambda d, v: [d.pk, 1]),
        (
            "drafts:revoke_share",
            "post",
            lambda d, v: [share_version(version=v, user=d.created_by).pk],
        ),
    ],
)
def test_another_users_drafts_are_not_found(client, other_user, draft, name, method, args):
    client.force_login(other_user)
    url = reverse(name, args=args(draft, draft.versions.get()))

    response = getattr(client, method)(url, {"text": "x", "base": 1, "status": "review"})

    assert response.status_code == 404
    assert draft.versions.count() == 1 and DraftVersion.objects.count() == 1
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_hostile_model_output_is_neutralised_on_the_draft_page(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text=HOSTILE, source="generated", author_id=user.pk)

    html = client.get(draft.get_absolute_url()).content.decode()

    body = html.split('id="draft-body"')[1].split("</article>")[0]
    assert "<h1>Plan</h1>" in body and "&lt;script&gt;" in body
    assert_neutralised(body)
    remote = [v for _, attrs in Elements(body).found for v in attrs.values() if "evil" in (v or "")]
    assert remote == []  # no remote image (or link to one) survives in any attribute


# --- Experiment variants in the list ---------------------------------------------------------


@pytest.fixture
def variant_drafts(workspace, user, product_template, product_inputs):
    """A finished run of a two-variant experiment: one draft per variant."""
    from drafts.actions import finish_generation
    from prompts.actions import duplicate_template
    from prompts.experiments.actions import create_experiment, start_run

    version = duplicate_template(template=product_template, workspace=workspace, user=user)
    version = version.current_version()
    experiment = create_experiment(
        workspace=workspace, name="Warmth", user=user, variants=[
            {"name": "Plain", "version": version},
            {"name": "Warm", "version": version, "temperature": 0.2},
        ],
    )  # fmt: skip
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    for column in run.columns.select_related("variant", "generation"):
        finish_generation(
            generation_id=column.generation_id,
            status="done",
            text=f"by {column.variant.name}",
            reasoning="",
            fields={},
        )
    return experiment


def test_a_variants_output_is_recorded_as_a_variant_version(variant_drafts):
    versions = DraftVersion.objects.filter(draft__generations__variant_run__isnull=False)
    assert sorted(v.source for v in versions) == ["variant", "variant"]
    assert sorted(v.text for v in versions) == ["by Plain", "by Warm"]


def test_the_list_filters_by_variant_once_the_review_is_no_longer_blind(
    client, user, workspace, draft, variant_drafts
):
    client.force_login(user)
    url = reverse("drafts:list", args=[workspace.pk])
    warm = variant_drafts.variants.get(name="Warm")

    blind = client.get(url)
    assert "variant" not in blind.context["form"].fields  # running and blind: no peeking

    variant_drafts.status = "stopped"
    variant_drafts.save()
    page = client.get(url).content.decode()
    found = client.get(url, {"variant": warm.pk}, headers={**HTMX, "HX-Target": "draft-results"})

    assert "Warmth · Warm" in page and "All variants" in page
    assert [d.versions.get().text for d in found.context["page"].object_list] == ["by Warm"]
    # A bad variant is ignored: the whole list (the experiment's drafts only when asked for).
    assert len(client.get(url, {"variant": "x"}).context["page"].object_list) == 1
    every = client.get(url, {"variant": "x", "experiments": "on"}).context["page"]
    assert len(every.object_list) == 3


def test_experiment_drafts_stay_out_of_the_list_until_asked_for(
    client, user, workspace, draft, variant_drafts
):
    client.force_login(user)
    url = reverse("drafts:list", args=[workspace.pk])

    hidden = client.get(url)
    shown = client.get(url, {"experiments": "on"}, headers={**HTMX, "HX-Target": "draft-results"})

    assert [d.pk for d in hidden.context["page"].object_list] == [draft.pk]
    assert "Show experiment drafts" in hidden.content.decode()
    assert len(shown.context["page"].object_list) == 3
    assert (
        'name="experiments" value="on" checked'
        in client.get(url, {"experiments": "on"}).content.decode()
    )


def test_not_from_experiments_keeps_a_single_variant_experiments_drafts(
    user, workspace, draft, variant_drafts
):
    """Only side-by-side runs (and batch rows) write experiment drafts: a single-variant
    experiment tags people's own drafts, which stay in every list."""
    assert list(Draft.objects.not_from_experiments()) == [draft]
    variant_drafts.mode = "single"
    variant_drafts.save()
    assert Draft.objects.not_from_experiments().count() == 3


def test_a_saved_version_cannot_be_rewritten(draft):
    from prompts.models import ImmutableError

    version = draft.versions.get()
    version.text = "history rewritten"
    with pytest.raises(ImmutableError):
        version.save()
    assert draft.versions.get().text == "Bright light for late nights."
