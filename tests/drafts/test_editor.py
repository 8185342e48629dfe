"""The editor: one version per editing session (drafts.actions: keep_working_copy,
finish_session), the working copy offered again, the preview, section editing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from drafts.actions import (
    VersionConflict,
    add_version,
    finish_session,
    keep_working_copy,
    resume_working_copy,
)
from drafts.models import Draft, WorkingCopy

from .hostile import HOSTILE, assert_neutralised

HTMX = {"HX-Request": "true"}
IDLE = timedelta(minutes=5)


@pytest.fixture
def draft(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="generated", author_id=user.pk)
    return draft


def keep(draft, user, text, base=1, at=None):
    return keep_working_copy(
        draft_id=draft.pk, user_id=user.pk, text=text, base_number=base, idle=IDLE, now=at
    )


# --- The policy (actions) ---------------------------------------------------------------------


def test_autosaves_with_pauses_then_save_make_one_version_with_the_sessions_span(draft, user):
    start = timezone.now()
    typed = "Bright light"
    for pause in range(12):  # a sentence typed with a dozen short pauses, autosaved after each
        typed += f" word{pause}"
        assert keep(draft, user, typed, at=start + timedelta(seconds=20 * pause)) is None

    assert draft.versions.count() == 1  # autosave keeps the working copy, never a version
    copy = WorkingCopy.objects.get(draft=draft, user=user)
    assert (copy.text, copy.base, copy.started) == (typed, 1, start)

    version = finish_session(draft_id=draft.pk, user_id=user.pk, text=typed, base_number=1)

    assert draft.versions.count() == 2 and version.number == 2
    assert (version.text, version.source, version.based_on) == (typed, "edited", 1)
    assert version.session_started == start  # the span: session_started to created
    assert not WorkingCopy.objects.exists()


def test_a_long_idle_ends_the_session_as_a_version_and_starts_a_new_one(draft, user):
    start = timezone.now()
    keep(draft, user, "Bright light, first.", at=start)
    keep(draft, user, "Bright light, first session.", at=start + timedelta(minutes=1))

    # Six minutes without typing (the tab's timer never fired), then more typing.
    later = start + timedelta(minutes=7)
    made = keep(draft, user, "Bright light, first session. Second.", at=later)

    assert made is not None and made.number == 2
    assert made.text == "Bright light, first session." and made.session_started == start
    copy = WorkingCopy.objects.get(draft=draft, user=user)
    assert (copy.base, copy.started) == (2, later)  # the new session builds on that version
    finish_session(draft_id=draft.pk, user_id=user.pk, text=copy.text, base_number=2)
    assert list(draft.versions.values_list("number", flat=True)) == [3, 2, 1]


def test_a_kept_session_is_resumed_as_it_was(draft, user):
    start = timezone.now() - timedelta(hours=2)  # the tab closed two hours ago
    keep(draft, user, "Bright light, unsaved.", at=start)

    assert resume_working_copy(draft_id=draft.pk, user_id=user.pk)
    made = keep(draft, user, "Bright light, unsaved, resumed.")

    assert made is None  # resuming touched it: the session goes on, no version for the idle
    copy = WorkingCopy.objects.get(draft=draft, user=user)
    assert (copy.text, copy.started) == ("Bright light, unsaved, resumed.", start)
    assert not resume_working_copy(draft_id=draft.pk, user_id=user.pk + 1)


def test_a_stale_session_is_still_a_conflict_and_its_text_is_kept(draft, user, other_user):
    keep(draft, user, "Bright lamp.")
    add_version(draft_id=draft.pk, text="Bright light, theirs.", source="edited",
                author_id=other_user.pk)  # fmt: skip

    with pytest.raises(VersionConflict) as autosaved:
        keep(draft, user, "Bright lamp, mine.")
    with pytest.raises(VersionConflict) as saved:
        finish_session(draft_id=draft.pk, user_id=user.pk, text="Bright lamp, all mine.",
                       base_number=1)  # fmt: skip

    assert autosaved.value.latest.number == saved.value.latest.number == 2
    assert draft.versions.count() == 2  # nothing overwritten
    assert WorkingCopy.objects.get(draft=draft, user=user).text == "Bright lamp, all mine."
    # "Save my text as the newest version": based on theirs now.
    finish_session(draft_id=draft.pk, user_id=user.pk, text="Bright lamp, all mine.",
                   base_number=2)  # fmt: skip
    assert draft.versions.first().text == "Bright lamp, all mine."


def test_an_idle_session_that_went_stale_is_not_forced_in(draft, user, other_user):
    start = timezone.now()
    keep(draft, user, "Bright lamp.", at=start)
    add_version(draft_id=draft.pk, text="Theirs.", source="edited", author_id=other_user.pk)

    with pytest.raises(VersionConflict):
        keep(draft, user, "Bright lamp, later.", at=start + timedelta(hours=1))

    assert draft.versions.count() == 2
    assert WorkingCopy.objects.get(draft=draft, user=user).text == "Bright lamp, later."


def test_each_user_has_their_own_working_copy(draft, user, other_user):
    keep(draft, user, "Mine.")
    keep(draft, other_user, "Theirs.")
    assert set(WorkingCopy.objects.values_list("user_id", "text")) == {
        (user.pk, "Mine."),
        (other_user.pk, "Theirs."),
    }


# --- The views ------------------------------------------------------------------------------


def post(client, draft, **data):
    return client.post(reverse("drafts:edit", args=[draft.pk]), data, headers=HTMX)


def test_an_autosave_keeps_the_text_and_a_save_makes_the_version(client, user, draft):
    client.force_login(user)

    kept = post(client, draft, text="Bright light, kept.", base=1, autosave="1").content.decode()
    saved = post(client, draft, text="Bright light, saved.", base=1).content.decode()

    assert 'data-state="kept"' in kept and "Changes kept · not a version yet" in kept
    assert 'id="editor-base" value="1" hx-swap-oob="true"' in kept
    assert 'data-state="saved"' in saved and "Saved · version 2" in saved
    assert draft.versions.count() == 2 and not WorkingCopy.objects.exists()


def test_the_next_visit_offers_the_kept_session_and_resumes_it(client, user, draft):
    client.force_login(user)
    post(client, draft, text="Unsaved <b>words</b>.", base=1, autosave="1")
    url = reverse("drafts:edit", args=[draft.pk])

    offered = client.get(url).content.decode()
    resumed = client.post(url, {"resume": "1"}, follow=True).content.decode()

    assert "data-resume-offer" in offered and "Resume my edits" in offered
    assert "Bright light.</textarea>" in offered  # the latest version until asked
    assert "data-resumed" in resumed and "Unsaved &lt;b&gt;words&lt;/b&gt;.</textarea>" in resumed
    assert 'name="base" id="editor-base" value="1"' in resumed
    assert "data-resume-offer" not in resumed


def test_discarding_the_kept_session_removes_it(client, user, draft):
    client.force_login(user)
    post(client, draft, text="Unwanted.", base=1, autosave="1")
    url = reverse("drafts:edit", args=[draft.pk])

    response = client.post(url, {"discard": "1"}, headers=HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == url
    assert not WorkingCopy.objects.exists()
    assert "data-resume-offer" not in client.get(url).content.decode()


def test_the_conflict_view_marks_the_differences_side_by_side(client, user, other_user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Bright light, theirs.", source="edited",
                author_id=other_user.pk)  # fmt: skip

    html = post(client, draft, text="Bright lamp, mine.", base=1, autosave="1").content.decode()

    assert 'data-state="conflict"' in html
    assert "theirs</del>" in html and "mine</ins>" in html
    assert "light</del>" in html and "lamp</ins>" in html
    assert 'name="resolve" value="2"' in html and 'name="discard"' in html
    assert "merge by hand" in html


def test_the_conflict_view_renders_both_sides_as_markdown_with_the_marks(
    client, user, other_user, draft
):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="## Plan\n\n- **light** bulbs\n", source="edited",
                author_id=other_user.pk)  # fmt: skip

    html = post(client, draft, text="## Plan\n\n- **lamp** bulbs\n", base=1, autosave="1")

    body = html.content.decode()
    assert "<h2>Plan</h2>" in body and "## Plan" not in body
    assert "<li><strong><del" in body and "light</del></strong>" in body
    assert "lamp</ins></strong>" in body and "**" not in body


@pytest.mark.parametrize("side", ["theirs", "mine"])
def test_the_conflict_view_leaves_hostile_text_inert_on_either_side(
    client, user, other_user, draft, side
):
    theirs, mine = (HOSTILE, "Hi there.") if side == "theirs" else ("Hi there.", HOSTILE)
    client.force_login(user)
    add_version(draft_id=draft.pk, text=theirs, source="edited", author_id=other_user.pk)

    body = post(client, draft, text=mine, base=1, autosave="1").content.decode()

    for shown in ("theirs", "mine"):
        region = body[body.index(f"<div data-{shown} hx-disable") :]
        assert_neutralised(region[region.index(">") + 1 : region.index("</section>")])
    assert "&lt;script&gt;" in body and "<h1>" in body


def test_the_preview_is_the_studios_sanitized_rendering(client, user, draft):
    client.force_login(user)
    url = reverse("drafts:preview", args=[draft.pk])

    html = client.post(url, {"text": "## Plan\n\n**bold** <script>x</script>"}, headers=HTMX)

    body = html.content.decode()
    assert "<h2>Plan</h2>" in body and "<strong>bold</strong>" in body
    assert "<script>" not in body and "hx-disable" in body


def test_section_editing_opens_the_editor_at_that_section(client, user, draft):
    text = "Intro.\n\n## One\n\nFirst.\n\n## Two\n\nSecond.\n"
    add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)
    client.force_login(user)

    html = client.get(reverse("drafts:edit", args=[draft.pk]), {"section": 1}).content.decode()
    panel = client.get(draft.get_absolute_url()).content.decode()

    assert f'data-caret="{text.index("## Two")}"' in html
    assert f"{reverse('drafts:edit', args=[draft.pk])}?section=1" in panel


def test_a_version_from_a_session_shows_its_span(client, user, draft):
    client.force_login(user)
    post(client, draft, text="Bright light, kept.", base=1, autosave="1")
    post(client, draft, text="Bright light, saved.", base=1)

    assert "data-session-span" in client.get(draft.get_absolute_url()).content.decode()


def test_without_javascript_every_save_is_a_version(client, user, draft):
    client.force_login(user)
    url = reverse("drafts:edit", args=[draft.pk])

    client.post(url, {"text": "One.", "base": 1})
    client.post(url, {"text": "Two.", "base": 2})

    assert list(draft.versions.values_list("text", flat=True)) == ["Two.", "One.", "Bright light."]


def test_a_reviewer_gets_no_toolbar_and_may_not_autosave_or_preview(client, user, other_user,
                                                                     draft):  # fmt: skip
    from studio.workspaces.actions import add_member

    add_member(workspace=draft.workspace, user=other_user, role="reviewer")
    client.force_login(other_user)

    page = client.get(reverse("drafts:edit", args=[draft.pk])).content.decode()
    autosave = post(client, draft, text="No.", base=1, autosave="1")
    preview = client.post(reverse("drafts:preview", args=[draft.pk]), {"text": "x"})

    assert "markdown-toolbar" not in page.split("</head>")[1] and "data-preview-toggle" not in page
    assert autosave.status_code == preview.status_code == 403
    assert not WorkingCopy.objects.exists()


# --- The typing script of docs/guide.md ("Editing"): old autosave against sessions -----------

# A paragraph typed in twelve bursts; after each, the pause in seconds (a second or more is
# an autosave). After the sixth, an eight-minute break (longer than EDITOR_SESSION_IDLE).
TYPING_SCRIPT = [
    ("Aurora keeps", 2),
    (" the desk lit", 3),
    (" for late nights,", 1.5),
    (" without glare.", 4),
    (" It dims", 2),
    (" itself at dawn.", 480),
    (" Two colour", 2),
    (" temperatures,", 5),
    (" one button,", 1.5),
    (" no app.", 3),
    (" Ships in", 2),
    (" May.", 10),
]


def _type_script(client, draft, monkeypatch, *, sessions: bool) -> int:
    """The versions the script leaves: the old autosave saved a version at every pause (what
    the page sent then is a POST without ``autosave``); the session editor keeps the working
    copy at each pause and saves once at the end (Ctrl+S)."""
    clock = [timezone.now()]
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock[0])
    text, base = "", 1
    for burst, pause in TYPING_SCRIPT:
        text += burst
        clock[0] += timedelta(seconds=1)  # the autosave fires a second into the pause
        extra = {"autosave": "1"} if sessions else {}
        response = post(client, draft, text=text, base=base, **extra)
        assert 'data-state="conflict"' not in response.content.decode()
        base = draft.versions.first().number if not sessions else base
        if sessions and (made := WorkingCopy.objects.get(draft=draft).base) != base:
            base = made  # the idle break's version: the page's base follows (out of band)
        clock[0] += timedelta(seconds=pause - 1)
    if sessions:
        post(client, draft, text=text, base=base)  # Ctrl+S
    assert draft.versions.first().text == text
    return draft.versions.count() - 1  # versions the typing made


def test_the_typing_script_makes_twelve_versions_before_and_two_now(
    client, user, draft, monkeypatch, settings
):
    settings.EDITOR_SESSION_IDLE = 300
    client.force_login(user)
    old = _type_script(client, draft, monkeypatch, sessions=False)
    other = Draft.objects.create(workspace=draft.workspace, title="Second", created_by=user)
    add_version(draft_id=other.pk, text="", source="generated", author_id=user.pk)

    new = _type_script(client, other, monkeypatch, sessions=True)

    assert (old, new) == (12, 2)  # the break ended a session; Ctrl+S the other


def test_a_form_without_javascript_stores_lf_line_ends(client, user, draft):
    client.force_login(user)

    client.post(reverse("drafts:edit", args=[draft.pk]), {"text": "# A\r\n\r\nB.", "base": 1})
    client.post(reverse("drafts:edit", args=[draft.pk]), {"text": "# A\n\nB.", "base": 2})

    assert draft.versions.first().text == "# A\n\nB." and draft.versions.count() == 2
