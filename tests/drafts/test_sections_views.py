"""The section outline on the draft page: move a section, regenerate or expand one in place."""

import pytest
from django.core.cache import cache
from django.utils.html import escape

from drafts import generation as runner
from drafts.actions import add_version
from drafts.models import Draft, Generation, Suggestion
from drafts.sections import outline
from drafts.suggestions import start_suggestion
from studio.audit.origin import Origin

HTMX = {"HX-Request": "true"}
GUIDE = "Intro.\n\n# Install\n\nRun it.\n\n## Configure\n\nSet the key.\n\n# Use\n\nUse it.\n"


@pytest.fixture
def guide(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Guide", created_by=user)
    add_version(draft_id=draft.pk, text=GUIDE, source="generated", author_id=user.pk)
    return draft


def test_the_draft_page_lists_the_sections_with_their_tools(client, user, guide):
    client.force_login(user)

    page = client.get(guide.get_absolute_url()).content.decode()

    assert page.count("data-outline-item=") == 3
    for index in range(3):
        assert f'id="section-{index}" data-section="{index}"' in page  # each in its own place
    assert "Move “Install” up" in page and "Move “Use” down" in page
    assert 'name="instruction"' in page and 'value="expand"' in page
    assert 'id="suggestions"' in page and 'id="rewrite-form"' in page


def test_an_older_version_shows_no_section_tools(client, user, guide):
    add_version(draft_id=guide.pk, text=GUIDE + "More.\n", source="edited", author_id=user.pk)
    client.force_login(user)

    page = client.get(guide.get_absolute_url(), {"v": 1}).content.decode()

    assert 'id="section-0"' in page and 'id="section-tools"' not in page


def test_moving_a_section_down_saves_a_version_and_returns_the_panel(client, user, guide):
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/move/",
        {"base": 1, "index": 0, "direction": "down"},
        headers=HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="draft-panel"' in html and "<html" not in html
    latest = guide.latest_version()
    assert (latest.number, latest.source, latest.based_on) == (2, "edited", 1)
    # "Install" moves with its subsection "Configure", past "Use".
    assert [s.title for s in outline(latest.text)] == ["Use", "Install", "Configure"]
    assert 'data-outline-item="1" data-moved="down"' in html  # where the focus goes next


def test_a_move_from_a_stale_page_is_refused_with_a_notice(client, user, guide):
    add_version(draft_id=guide.pk, text=GUIDE + "More.\n", source="edited", author_id=user.pk)
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/move/",
        {"base": 1, "index": 1, "direction": "up"},
        headers=HTMX,
    )

    assert response.status_code == 200 and response["HX-Retarget"] == "#draft-panel"
    assert "A newer version (v2) was saved" in response.content.decode()
    assert guide.versions.count() == 2


def test_without_htmx_a_move_redirects_to_the_draft(client, user, guide):
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/move/", {"base": 1, "index": 1, "direction": "up"}
    )

    assert response.status_code == 302 and response["Location"] == guide.get_absolute_url()
    assert guide.versions.count() == 2


def test_regenerate_starts_a_section_generation_that_streams_into_its_place(
    client, user, guide, launched
):
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/generate/",
        {"base": 1, "index": 1, "action": "expand", "instruction": "Add an example"},
        headers=HTMX,
    )

    suggestion = Suggestion.objects.get()
    assert launched == [suggestion.generation_id]
    assert (suggestion.kind, suggestion.section_index, suggestion.instruction) == (
        "expand",
        1,
        "Add an example",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="section-1"')  # replaces the section, nothing else
    assert f'sse-connect="/generations/{suggestion.generation_id}/events/?after=0"' in html
    assert 'sse-swap="delta,block" hx-swap="beforeend"' in html
    assert "Set the key." not in html  # not even the old section comes back


def test_a_reload_while_a_section_streams_shows_it_live_in_its_place(client, user, guide):
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=guide, user=user, kind="regenerate", section_index=2
    )
    Generation.objects.filter(pk=suggestion.generation_id).update(status="running")
    cache.set(runner.alive_key(suggestion.generation_id), 1, 30)  # a worker runs it
    client.force_login(user)

    page = client.get(guide.get_absolute_url()).content.decode()

    assert 'data-section="2" data-section-live' in page
    assert f"/generations/{suggestion.generation_id}/events/" in page
    assert 'id="section-0" data-section="0" hx-disable>' in page  # the others as they are
    assert 'id="stream-text"' not in page  # the draft itself is not "generating"


def test_a_reviewer_watching_a_section_stream_gets_no_stop_button(client, user, other_user, guide):
    from studio.workspaces.actions import add_member

    add_member(workspace=guide.workspace, user=other_user, role="reviewer")
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=guide, user=user, kind="regenerate", section_index=2
    )
    Generation.objects.filter(pk=suggestion.generation_id).update(status="running")
    cache.set(runner.alive_key(suggestion.generation_id), 1, 30)  # a worker runs it
    stop = f'hx-post="/generations/{suggestion.generation_id}/cancel/"'

    client.force_login(other_user)
    as_reviewer = client.get(guide.get_absolute_url()).content.decode()
    client.force_login(user)
    as_editor = client.get(guide.get_absolute_url()).content.decode()

    assert 'data-section="2" data-section-live' in as_reviewer and stop not in as_reviewer
    assert stop in as_editor


def test_a_parent_that_ends_the_draft_cannot_be_moved_down(client, user, workspace):
    draft = Draft.objects.create(workspace=workspace, title="Nested", created_by=user)
    text = "# One\n\nx\n\n# Two\n\ny\n\n## Two.1\n\nz\n"
    add_version(draft_id=draft.pk, text=text, source="generated", author_id=user.pk)
    client.force_login(user)

    page = client.get(draft.get_absolute_url()).content.decode()

    assert 'value="down" disabled aria-label="Move “Two” down"' in page
    assert 'value="down"  aria-label="Move “One” down"' in page


def test_a_stale_regenerate_starts_nothing(client, user, guide, launched):
    add_version(draft_id=guide.pk, text=GUIDE + "More.\n", source="edited", author_id=user.pk)
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/generate/",
        {"base": 1, "index": 1, "action": "regenerate"},
        headers=HTMX,
    )

    assert response["HX-Retarget"] == "#draft-panel"
    assert "A newer version (v2) was saved" in response.content.decode()
    assert launched == [] and not Suggestion.objects.exists()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("sections/move/", {"base": 1, "index": 0, "direction": "down"}),
        ("sections/generate/", {"base": 1, "index": 0, "action": "regenerate"}),
    ],
)
def test_another_users_draft_is_not_found(client, other_user, guide, launched, path, data):
    client.force_login(other_user)

    response = client.post(f"/drafts/{guide.pk}/{path}", data, headers=HTMX)

    assert response.status_code == 404
    assert guide.versions.count() == 1 and launched == []


def test_a_garbled_request_changes_nothing(client, user, guide):
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/move/", {"base": "x", "index": 0}, headers=HTMX
    )

    assert response.status_code == 400 and guide.versions.count() == 1


def test_a_reviewer_sees_the_sections_but_cannot_change_them(client, other_user, guide, launched):
    from studio.workspaces.actions import add_member

    add_member(workspace=guide.workspace, user=other_user, role="reviewer")
    client.force_login(other_user)

    page = client.get(guide.get_absolute_url()).content.decode()
    moved = client.post(
        f"/drafts/{guide.pk}/sections/move/", {"base": 1, "index": 0, "direction": "down"}
    )
    generated = client.post(
        f"/drafts/{guide.pk}/sections/generate/", {"base": 1, "index": 0, "action": "regenerate"}
    )

    assert 'id="section-0"' in page and 'id="section-tools"' not in page
    assert 'id="rewrite-form"' not in page
    assert (moved.status_code, generated.status_code) == (403, 403)
    assert guide.versions.count() == 1 and launched == []


def _generate(client, guide, instruction: str, **headers):
    return client.post(
        f"/drafts/{guide.pk}/sections/generate/",
        {"base": 1, "index": 1, "action": "regenerate", "instruction": instruction},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [
        ("Mention <script src=x>", "it contains a &lt;script&gt; tag"),
        ("More. " * 90, "This text is 539 characters long; the limit is 500."),
    ],
    ids=["blocked", "too-long"],
)
def test_a_section_prompt_that_may_not_be_sent_comes_back_as_typed(
    client, user, guide, launched, instruction, reason
):
    """The reason is beside that section's prompt, which keeps what was typed; nothing is
    created or started."""
    client.force_login(user)

    response = _generate(client, guide, instruction, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Retarget"] == "#draft-panel"
    assert reason in html and 'id="section-prompt-error-1" role="alert"' in html
    assert f'value="{escape(instruction)}" aria-invalid="true"' in html
    assert 'id="section-prompt-error-0"' not in html  # only the section it was typed for
    assert launched == [] and not Suggestion.objects.exists() and not Generation.objects.exists()


def test_a_draft_holding_a_blocked_pattern_is_not_sent_for_a_section(client, user, guide, launched):
    add_version(
        draft_id=guide.pk,
        text=GUIDE.replace("Set the key.", "Set sk-abcdefghijklmnopqrstuvwx."),
        source="edited",
        author_id=user.pk,
    )
    client.force_login(user)

    response = client.post(
        f"/drafts/{guide.pk}/sections/generate/",
        {"base": 2, "index": 1, "action": "expand", "instruction": "Add an example"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert "an API secret key (sk-…) (in the draft)" in html
    assert 'value="Add an example"' in html  # the prompt stays as typed
    assert launched == [] and not Suggestion.objects.exists()


def test_without_htmx_a_refused_section_prompt_is_shown_on_the_page(client, user, guide, launched):
    client.force_login(user)

    response = _generate(client, guide, "Use AKIAABCDEFGHIJKLMNOP")

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "an AWS access key" in html and 'value="Use AKIAABCDEFGHIJKLMNOP"' in html
    assert launched == [] and not Suggestion.objects.exists()
