"""Rewrites on the draft page: they arrive as suggestions shown as a word diff, to accept or
reject per change or all at once; headline alternatives are a list to pick from."""

import pytest
from django.conf import settings

from drafts.actions import add_version, finish_generation
from drafts.models import Draft, Suggestion
from drafts.suggestions import NotOffered, start_suggestion
from studio.audit.origin import Origin

from .hostile import HOSTILE, assert_neutralised

HTMX = {"HX-Request": "true"}
TEXT = "# Aurora lamp\n\nThe quick brown fox jumps over the lazy dog.\n"


@pytest.fixture
def draft(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Aurora", created_by=user)
    add_version(draft_id=draft.pk, text=TEXT, source="generated", author_id=user.pk)
    return draft


def suggested(draft, user, proposed: str, kind: str = "formal", **target) -> Suggestion:
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind=kind, **target
    )
    finish_generation(
        generation_id=suggestion.generation_id,
        status="done",
        text=proposed,
        reasoning="",
        fields={},
    )
    suggestion.refresh_from_db()
    return suggestion


def decide(client, suggestion, decision: str, base: int = 1, revision: int = 0):
    return client.post(
        f"/drafts/{suggestion.draft_id}/suggestions/{suggestion.pk}/decide/",
        {"decision": decision, "base": base, "revision": revision},
        headers=HTMX,
    )


def test_a_rewrite_of_the_selection_streams_into_the_suggestions_list(
    client, user, draft, launched
):
    client.force_login(user)

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/",
        {"base": 1, "kind": "translate", "language": "zh-hans", "selection": " lazy dog "},
        headers=HTMX,
    )

    suggestion = Suggestion.objects.get()
    assert launched == [suggestion.generation_id]
    assert (suggestion.kind, suggestion.instruction, suggestion.original) == (
        "translate",
        "zh-hans",
        "lazy dog",
    )
    html = response.content.decode()
    assert f'id="suggestion-{suggestion.pk}"' in html and "sse-connect=" in html
    assert 'id="no-suggestions" hx-swap-oob="delete"' in html
    assert "Simplified Chinese" in html


def test_a_second_rewrite_sends_no_out_of_band_swap_for_a_line_no_longer_there(
    client, user, draft, launched
):
    """The "nothing open" line went with the first suggestion: removing it again is an htmx
    error (oobErrorNoTarget) in the console."""
    suggested(draft, user, "The quick fox jumps.", kind="shorter")
    client.force_login(user)

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/", {"base": 1, "kind": "formal"}, headers=HTMX
    )

    html = response.content.decode()
    assert len(launched) == 1 and "sse-connect=" in html
    assert "no-suggestions" not in html


def test_a_rewrite_of_text_not_in_the_draft_explains_and_starts_nothing(
    client, user, draft, launched
):
    client.force_login(user)

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/",
        {"base": 1, "kind": "shorter", "selection": "a cat"},
        headers=HTMX,
    )

    assert response["HX-Retarget"] == "#draft-panel"
    assert "Select text that appears once in the draft" in response.content.decode()
    assert launched == [] and not Suggestion.objects.exists()


def test_a_pending_suggestion_shows_its_changes_with_accept_and_reject(client, user, draft):
    suggested(
        draft,
        user,
        "The fast brown fox leaps over the lazy dog.",
        selection="The quick brown fox jumps over the lazy dog.",
    )
    client.force_login(user)

    html = client.get(draft.get_absolute_url()).content.decode()

    assert "2 changes" in html
    assert '<del class="' in html and ">quick</del>" in html and ">fast</ins>" in html
    assert 'aria-label="Accept change 1"' in html and 'aria-label="Reject change 2"' in html
    assert "Accept all" in html and "Reject all" in html


def test_a_suggestion_reads_as_markdown_and_lists_its_changes_to_decide(client, user, draft):
    suggested(draft, user, "# Aurora lamp\n\nThe **fast** brown fox leaps over the lazy dog.\n")
    client.force_login(user)

    html = client.get(draft.get_absolute_url()).content.decode()

    shown = diff_region(html)
    assert "<h1>Aurora lamp</h1>" in shown and "#" not in shown and "**" not in shown
    assert "<strong>fast</strong></ins>" in shown and ">quick</del>" in shown
    changes = shown[shown.index("data-changes") :]
    assert changes.count("<li data-change=") == 2
    assert "quick</del> → <ins" in changes and ">fast</ins>" in changes  # words, not **fast**
    assert 'value="accept:0"' in changes and 'value="reject:1"' in changes


@pytest.mark.parametrize("side", ["draft", "model"])
def test_hostile_text_in_a_suggestion_stays_inert_on_either_side(client, user, draft, side):
    """The draft's text (a user's) and the rewrite (the model's) are both untrusted."""
    suggestion = suggested(draft, user, "Plain words." if side == "draft" else HOSTILE)
    if side == "draft":  # as if typed in the draft (a prompt with <script> is never sent)
        Suggestion.objects.filter(pk=suggestion.pk).update(original=HOSTILE)
    client.force_login(user)

    html = client.get(draft.get_absolute_url()).content.decode()

    shown = diff_region(html)
    assert_neutralised(shown)
    assert "&lt;script&gt;" in shown and "data-diff hx-disable" in html


def diff_region(html: str) -> str:
    """The rendered diff and the list of changes, without the form around them."""
    start = html.index("data-diff hx-disable>") + len("data-diff hx-disable>")
    return html[start : html.index('<p class="mt-2 flex', start)]


def test_accepting_one_change_then_rejecting_the_other(client, user, draft):
    old = "The quick brown fox jumps over the lazy dog."
    suggestion = suggested(
        draft, user, "The fast brown fox leaps over the lazy dog.", selection=old
    )
    client.force_login(user)

    response = decide(client, suggestion, "accept:1")

    assert response.status_code == 200 and 'id="draft-panel"' in response.content.decode()
    assert draft.latest_version().text == TEXT.replace("jumps", "leaps")
    assert "1 change" in response.content.decode()

    decide(client, suggestion, "reject:0", base=2, revision=1)

    suggestion.refresh_from_db()
    assert suggestion.status == "accepted" and draft.versions.count() == 2
    assert draft.latest_version().text == TEXT.replace("jumps", "leaps")


def test_accept_all_writes_one_version_and_reject_all_none(client, user, draft):
    first = suggested(
        draft, user, "Lazy dogs sleep.", selection="The quick brown fox jumps over the lazy dog."
    )
    second = suggested(draft, user, "Lamp", selection="Aurora lamp")
    client.force_login(user)

    decide(client, first, "accept")
    decide(client, second, "reject", base=2)

    assert [v.text for v in draft.versions.order_by("number")] == [
        TEXT,
        "# Aurora lamp\n\nLazy dogs sleep.\n",
    ]
    assert set(Suggestion.objects.values_list("status", flat=True)) == {"accepted", "rejected"}


def test_accepting_from_a_stale_page_keeps_the_suggestion_and_says_so(client, user, draft):
    suggestion = suggested(draft, user, "A lamp.", selection="Aurora lamp")
    add_version(draft_id=draft.pk, text=TEXT + "\nMore.\n", source="edited", author_id=user.pk)
    client.force_login(user)

    response = decide(client, suggestion, "accept")

    html = response.content.decode()
    assert "A newer version (v2) was saved" in html and "The suggestion is kept." in html
    assert f'id="suggestion-{suggestion.pk}"' in html  # still there to accept on v2
    assert draft.versions.count() == 2
    suggestion.refresh_from_db()
    assert suggestion.status == "pending" and suggestion.proposed == "A lamp."


def test_a_partial_rewrite_is_marked_and_can_be_dismissed(client, user, draft):
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    finish_generation(
        generation_id=suggestion.generation_id,
        status="failed",
        text="# Aurora",
        reasoning="",
        fields={},
    )
    client.force_login(user)

    html = client.get(draft.get_absolute_url()).content.decode()
    assert "did not finish — the partial text is kept here; the draft is unchanged" in html

    decide(client, suggestion, "reject")

    suggestion.refresh_from_db()
    assert suggestion.status == "rejected" and draft.versions.count() == 1


def test_headlines_are_a_list_to_pick_from(client, user, draft):
    suggestion = suggested(draft, user, "Glow on\nNight owl's lamp\nThird", kind="headlines")
    client.force_login(user)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert "data-headlines" in html and "Use “Night owl&#x27;s lamp”" in html

    response = client.post(
        f"/drafts/{draft.pk}/suggestions/{suggestion.pk}/headline/",
        {"choice": 1, "base": 1, "revision": 0},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert draft.latest_version().text == TEXT.replace("Aurora lamp", "Night owl's lamp")
    assert draft.latest_version().source == "suggestion"


@pytest.mark.parametrize("path", ["decide/", "headline/"])
def test_another_users_suggestion_is_not_found(client, other_user, user, draft, path):
    suggestion = suggested(draft, user, "A lamp.", selection="Aurora lamp")
    client.force_login(other_user)

    response = client.post(
        f"/drafts/{draft.pk}/suggestions/{suggestion.pk}/{path}",
        {"decision": "accept", "choice": 0, "base": 1, "revision": 0},
        headers=HTMX,
    )

    assert response.status_code == 404 and draft.versions.count() == 1


def test_another_users_draft_cannot_be_rewritten(client, other_user, draft, launched):
    client.force_login(other_user)

    response = client.post(f"/drafts/{draft.pk}/rewrite/", {"base": 1, "kind": "shorter"})

    assert response.status_code == 404 and launched == []


def test_a_suggestion_is_only_found_through_its_own_draft(client, user, draft, workspace):
    suggestion = suggested(draft, user, "A lamp.", selection="Aurora lamp")
    other = Draft.objects.create(workspace=workspace, title="Other", created_by=user)
    client.force_login(user)

    response = client.post(
        f"/drafts/{other.pk}/suggestions/{suggestion.pk}/decide/",
        {"decision": "accept", "base": 1, "revision": 0},
    )

    assert response.status_code == 404


def test_hostile_model_output_is_shown_as_text_in_sections_and_suggestions(
    client, user, workspace, settings
):
    # With the default patterns a draft holding <script> is not sent to the model again (see
    # test_a_rewrite_of_a_draft_holding_a_blocked_pattern_is_refused_naming_the_draft); this
    # test is about showing what came back.
    settings.PROMPT_BLOCKED_PATTERNS = {}
    hostile = '<script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    draft = Draft.objects.create(workspace=workspace, title="Hostile", created_by=user)
    add_version(
        draft_id=draft.pk, text=f"# Title\n\n{hostile}\n\n## Two\n\nok\n", source="generated",
        author_id=user.pk,
    )  # fmt: skip
    suggested(draft, user, hostile + " again", selection="ok")
    client.force_login(user)

    html = client.get(draft.get_absolute_url()).content.decode()

    assert "<script>alert" not in html and 'href="javascript' not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the suggestion, as text


def test_a_reviewer_sees_suggestions_without_their_controls(client, user, other_user, draft):
    """The diff is there to read; accept, reject, headline picks and Stop are not."""
    from django.core.cache import cache

    from drafts import generation as runner
    from drafts.models import Generation
    from studio.workspaces.actions import add_member

    add_member(workspace=draft.workspace, user=other_user, role="reviewer")
    suggested(draft, user, "The quick red fox jumps over the lazy dog.", selection=TEXT[15:])
    suggested(draft, user, "1. Bright\n2. Warm\n3. Calm\n4. Clear\n5. Soft", kind="headlines")
    running = start_suggestion(origin=Origin(), loop=None, draft=draft, user=user, kind="shorter")
    Generation.objects.filter(pk=running.generation_id).update(status="running")
    cache.set(runner.alive_key(running.generation_id), 1, 30)  # a worker runs it
    client.force_login(other_user)

    page = client.get(draft.get_absolute_url()).content.decode()

    assert page.count("data-suggestion=") == 3 and "<del" in page  # all shown, diff readable
    for control in ["/decide/", "/headline/", "/cancel/", 'id="rewrite-form"', "Accept all"]:
        assert control not in page
    client.force_login(user)
    as_editor = client.get(draft.get_absolute_url()).content.decode()
    for control in ["/decide/", "/headline/", "/cancel/", 'id="rewrite-form"', "Accept all"]:
        assert control in as_editor


@pytest.mark.parametrize(
    ("selection", "reason"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----", "it contains a private key"),
        ("fox " * 5001, "This text is 20,003 characters long; the limit is 20,000."),
    ],
    ids=["blocked", "too-long"],
)
def test_a_selection_that_may_not_be_sent_comes_back_as_typed(
    client, user, draft, launched, selection, reason
):
    client.force_login(user)

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/",
        {"base": 1, "kind": "shorter", "selection": selection},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Retarget"] == "#draft-panel"
    assert reason in html and 'aria-describedby="rewrite-selection-error-' in html
    assert f'value="{selection}"' in html
    assert launched == [] and not Suggestion.objects.exists()


def test_a_rewrite_of_a_draft_holding_a_blocked_pattern_is_refused_naming_the_draft(
    client, user, workspace, launched
):
    draft = Draft.objects.create(workspace=workspace, title="Keys", created_by=user)
    text = "# Keys\n\nOurs is AKIAABCDEFGHIJKLMNOP.\n\n## Next\n\nMore.\n"
    add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)
    client.force_login(user)

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/", {"base": 1, "kind": "formal", "section": 1}, headers=HTMX
    )

    html = response.content.decode()
    assert "an AWS access key (in the draft)" in html
    assert '<option value="1" selected>Next</option>' in html  # the choice stays as made
    assert launched == [] and not Suggestion.objects.exists()


def test_a_selection_not_found_stays_in_the_field(client, user, draft, launched):
    client.force_login(user)

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/",
        {"base": 1, "kind": "shorter", "selection": "a cat"},
        headers=HTMX,
    )

    assert 'value="a cat"' in response.content.decode() and launched == []


@pytest.mark.parametrize(
    ("slug", "offered"),
    [("product-description", True), ("doc-section", False), (None, True)],
)
def test_headline_alternatives_are_offered_for_marketing_text_only(
    client, user, draft, demo_templates, slug, offered
):
    """Copy, emails and ads get "5 headline alternatives"; a technical doc does not; a draft
    written by hand (no template) may be anything, so it is offered."""
    if slug:
        template = next(t for t in demo_templates if t.slug == slug)
        Draft.objects.filter(pk=draft.pk).update(template_version=template.current_version())
    client.force_login(user)

    html = client.get(draft.get_absolute_url()).content.decode()

    assert 'id="rewrite-form"' in html and 'value="shorter"' in html
    assert ('value="headlines"' in html) is offered


@pytest.mark.parametrize(
    ("language", "reason"), [("en", "marketing text only"), ("zh-hans", "营销")]
)
def test_headline_alternatives_asked_for_on_text_that_is_not_marketing_are_refused(
    client, user, draft, demo_templates, launched, language, reason
):
    """The button is hidden for a technical doc; a request that asks anyway is a 422 with
    the reason in the viewer's language, and nothing is started."""
    template = next(t for t in demo_templates if t.slug == "doc-section")
    Draft.objects.filter(pk=draft.pk).update(template_version=template.current_version())
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.post(
        f"/drafts/{draft.pk}/rewrite/", {"base": 1, "kind": "headlines"}, headers=HTMX
    )

    assert response.status_code == 422
    assert reason in response.content.decode()
    assert launched == [] and not Suggestion.objects.exists()


def test_start_suggestion_refuses_headlines_where_they_are_not_offered(user, draft, demo_templates):
    template = next(t for t in demo_templates if t.slug == "doc-section")
    Draft.objects.filter(pk=draft.pk).update(template_version=template.current_version())
    draft.refresh_from_db()

    with pytest.raises(NotOffered):
        start_suggestion(origin=Origin(), loop=None, draft=draft, user=user, kind="headlines")

    assert not Suggestion.objects.exists()
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter"
    )
    assert suggestion.kind == "shorter"  # the other rewrites stay offered
