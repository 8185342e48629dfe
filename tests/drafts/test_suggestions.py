"""Suggestions: where a rewrite applies, and deciding its changes one at a time or all at once."""

import pytest

from drafts.actions import VersionConflict, add_version, finish_generation
from drafts.models import Draft, Suggestion
from drafts.rewrite_prompts import build_messages, fit_section, headlines
from drafts.sections import outline
from drafts.suggestions import (
    Hunk,
    NotApplicable,
    SuggestionChanged,
    decide,
    resolve,
    segments,
    start_suggestion,
    use_headline,
)
from studio.audit.origin import Origin

TEXT = (
    "# Aurora lamp\n\n"
    "The quick brown fox jumps over the **lazy** dog.\n\n"
    "## Light\n\nWarm light for late nights.\n"
)


@pytest.fixture
def draft(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Aurora", created_by=user)
    add_version(draft_id=draft.pk, text=TEXT, source="generated", author_id=user.pk)
    return draft


def finish(suggestion: Suggestion, text: str, status: str = "done") -> Suggestion:
    """The suggestion's generation ends as the runner would end it."""
    finish_generation(
        generation_id=suggestion.generation_id, status=status, text=text, reasoning="", fields={}
    )
    suggestion.refresh_from_db()
    return suggestion


def rewrite(draft, user, proposed: str, **target) -> Suggestion:
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="formal", **target
    )
    return finish(suggestion, proposed)


def texts(draft) -> list[str]:
    return list(draft.versions.order_by("number").values_list("text", flat=True))


def test_segments_number_each_change_between_unchanged_words():
    parts = segments("The quick brown fox jumps.", "The fast brown fox leaps.")

    assert parts == [
        "The ",
        Hunk(0, "quick", "fast"),
        " brown fox ",
        Hunk(1, "jumps", "leaps"),
        ".",
    ]
    assert resolve("The quick brown fox jumps.", "The fast brown fox leaps.", 1, accept=True) == (
        "The quick brown fox leaps.",
        "The fast brown fox leaps.",
    )
    assert resolve("The quick brown fox jumps.", "The fast brown fox leaps.", 0, accept=False) == (
        "The quick brown fox jumps.",
        "The quick brown fox leaps.",
    )


def test_a_selection_is_found_in_the_source_even_as_selected_on_the_rendered_page(draft, user):
    selected = "over the lazy dog."  # the page shows no ** marks

    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="shorter", selection=selected
    )

    assert suggestion.original == "over the **lazy** dog."
    assert TEXT[suggestion.start : suggestion.end] == suggestion.original
    assert suggestion.status == "running" and suggestion.base_number == 1
    sent = suggestion.generation.messages[-1]["content"]
    assert TEXT in sent and "<target>\nover the **lazy** dog.\n</target>" in sent


def test_a_selection_that_is_not_in_the_draft_or_is_there_twice_is_refused(draft, user):
    with pytest.raises(ValueError, match="appears once"):
        start_suggestion(
            origin=Origin(),
            loop=None,
            draft=draft,
            user=user,
            kind="shorter",
            selection="not in the text",
        )
    with pytest.raises(ValueError, match="appears once"):
        start_suggestion(
            origin=Origin(), loop=None, draft=draft, user=user, kind="shorter", selection="ight"
        )
    assert not Suggestion.objects.exists()


def test_a_section_suggestion_targets_the_section_and_needs_the_newest_version(draft, user):
    suggestion = start_suggestion(
        origin=Origin(),
        loop=None,
        draft=draft,
        user=user,
        kind="expand",
        section_index=1,
        instruction="Add a table",
    )
    assert suggestion.original == "## Light\n\nWarm light for late nights.\n"
    assert "Add a table" in suggestion.generation.messages[-1]["content"]
    with pytest.raises(VersionConflict):
        start_suggestion(
            origin=Origin(),
            loop=None,
            draft=draft,
            user=user,
            kind="expand",
            section_index=0,
            base_number=0,
        )
    with pytest.raises(ValueError):
        start_suggestion(
            origin=Origin(), loop=None, draft=draft, user=user, kind="expand", section_index=5
        )
    with pytest.raises(ValueError):
        start_suggestion(
            origin=Origin(), loop=None, draft=draft, user=user, kind="regenerate"
        )  # which section?


def test_a_finished_rewrite_waits_as_a_suggestion_and_the_draft_is_untouched(draft, user):
    suggestion = rewrite(draft, user, "The quick brown fox leaps.", selection="Warm light")

    assert suggestion.status == "pending"
    assert suggestion.proposed == "The quick brown fox leaps."
    assert texts(draft) == [TEXT]


def test_accepting_one_change_writes_a_version_with_only_that_change(draft, user):
    old = "The quick brown fox jumps over the **lazy** dog."
    new = "The swift brown fox leaps over the **lazy** dog."
    suggestion = rewrite(draft, user, new, selection=old)

    suggestion = decide(
        suggestion_id=suggestion.pk,
        accept=True,
        change=1,
        base_number=1,
        revision=0,
        author_id=user.pk,
    )

    partly = TEXT.replace("fox jumps", "fox leaps")
    assert texts(draft) == [TEXT, partly]
    version = draft.versions.get(number=2)
    assert (version.source, version.based_on) == ("suggestion", 1)
    assert suggestion.status == "pending" and suggestion.revision == 1
    assert [
        p.index for p in segments(suggestion.original, suggestion.proposed) if isinstance(p, Hunk)
    ] == [0]

    # Rejecting what is left settles it as accepted (part of it went in); nothing is written.
    suggestion = decide(
        suggestion_id=suggestion.pk,
        accept=False,
        change=0,
        base_number=2,
        revision=1,
        author_id=user.pk,
    )
    assert suggestion.status == "accepted" and suggestion.version.number == 2
    assert texts(draft) == [TEXT, partly]


def test_accept_all_and_reject_all(draft, user):
    first = rewrite(draft, user, "Cool light, all night.", selection="Warm light for late nights.")
    second = rewrite(draft, user, "A fox.", selection="The quick brown fox")

    accepted = decide(
        suggestion_id=first.pk,
        accept=True,
        change=None,
        base_number=1,
        revision=0,
        author_id=user.pk,
    )
    rejected = decide(
        suggestion_id=second.pk,
        accept=False,
        change=None,
        base_number=2,
        revision=0,
        author_id=user.pk,
    )

    assert texts(draft) == [
        TEXT,
        TEXT.replace("Warm light for late nights.", "Cool light, all night."),
    ]
    assert (accepted.status, rejected.status) == ("accepted", "rejected")
    assert rejected.proposed == rejected.original == "The quick brown fox"


def test_a_stale_base_is_a_conflict_that_keeps_the_suggestion_as_it_was(draft, user):
    suggestion = rewrite(draft, user, "Cool light.", selection="Warm light for late nights.")
    add_version(draft_id=draft.pk, text=TEXT + "\nMore.\n", source="edited", author_id=user.pk)

    with pytest.raises(VersionConflict) as raised:
        decide(
            suggestion_id=suggestion.pk,
            accept=True,
            change=None,
            base_number=1,  # the page still showed version 1
            revision=0,
            author_id=user.pk,
        )

    assert raised.value.latest.number == 2
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.proposed, suggestion.revision) == (
        "pending",
        "Cool light.",
        0,
    )
    assert draft.versions.count() == 2


def test_accepting_on_a_newer_version_puts_it_where_its_text_now_is(draft, user):
    suggestion = rewrite(draft, user, "Cool light.", selection="Warm light for late nights.")
    edited = "Intro added by a colleague.\n\n" + TEXT
    add_version(draft_id=draft.pk, text=edited, source="edited", author_id=user.pk)

    decide(
        suggestion_id=suggestion.pk,
        accept=True,
        change=None,
        base_number=2,
        revision=0,
        author_id=user.pk,
    )

    assert texts(draft)[-1] == edited.replace("Warm light for late nights.", "Cool light.")


def test_a_suggestion_whose_text_was_edited_away_cannot_be_placed(draft, user):
    suggestion = rewrite(draft, user, "Cool light.", selection="Warm light for late nights.")
    add_version(
        draft_id=draft.pk, text="# Aurora lamp\n\nRewritten.\n", source="edited", author_id=user.pk
    )

    with pytest.raises(NotApplicable):
        decide(
            suggestion_id=suggestion.pk,
            accept=True,
            change=None,
            base_number=2,
            revision=0,
            author_id=user.pk,
        )
    assert draft.versions.count() == 2


def test_another_tab_deciding_first_is_detected_by_the_revision(draft, user):
    suggestion = rewrite(
        draft, user, "The fast brown fox leaps.", selection="The quick brown fox jumps"
    )
    decide(
        suggestion_id=suggestion.pk,
        accept=False,
        change=0,
        base_number=1,
        revision=0,
        author_id=user.pk,
    )

    with pytest.raises(SuggestionChanged):
        decide(
            suggestion_id=suggestion.pk,
            accept=False,
            change=0,
            base_number=1,
            revision=0,
            author_id=user.pk,
        )


def test_headline_alternatives_are_picked_into_the_title(draft, user):
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="headlines"
    )
    assert suggestion.original == "Aurora lamp"
    assert TEXT in suggestion.generation.messages[-1]["content"]  # the whole draft to read
    suggestion = finish(
        suggestion,
        '1. Light that works late\n2. "Aurora: warm nights"\n\n- Third\n4. Four\n5. Five\n6. Six',
    )
    assert headlines(suggestion.proposed) == [
        "Light that works late",
        "Aurora: warm nights",
        "Third",
        "Four",
        "Five",
    ]

    suggestion = use_headline(
        suggestion_id=suggestion.pk, choice=1, base_number=1, revision=0, author_id=user.pk
    )

    assert texts(draft)[-1] == TEXT.replace("# Aurora lamp", "# Aurora: warm nights")
    assert suggestion.status == "accepted"


def test_a_headline_for_a_draft_without_a_title_goes_on_top(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Plain", created_by=user)
    add_version(draft_id=draft.pk, text="Just text.\n", source="generated", author_id=user.pk)
    suggestion = finish(
        start_suggestion(origin=Origin(), loop=None, draft=draft, user=user, kind="headlines"),
        "Big news",
    )

    use_headline(
        suggestion_id=suggestion.pk, choice=0, base_number=1, revision=0, author_id=user.pk
    )

    assert texts(draft)[-1] == "# Big news\n\nJust text.\n"


def test_a_failed_rewrite_keeps_its_partial_text_as_a_marked_suggestion(draft, user):
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="translate", instruction="zh-hans"
    )
    assert "Simplified Chinese" in suggestion.generation.messages[-1]["content"]

    suggestion = finish(suggestion, "# 极光灯\n\n敏捷的", status="failed")

    assert suggestion.status == "pending" and suggestion.generation.is_partial
    assert suggestion.proposed == "# 极光灯\n\n敏捷的"
    assert texts(draft) == [TEXT]


def test_a_section_answer_is_fitted_to_its_place():
    original = "## Light\n\nWarm light.\n\n"
    assert fit_section("## Light\n\nCool light.", original) == "## Light\n\nCool light.\n\n"
    assert fit_section("Cool light.\n", original) == "## Light\n\nCool light.\n\n"
    assert outline(fit_section("### Lighting\n\nMore.", original))[0].title == "Lighting"


def test_the_prompt_asks_only_for_the_target():
    messages = build_messages(kind="regenerate", document="# A\n\nx\n", target="# A\n\nx\n")
    assert messages[0]["role"] == "system" and "only" in messages[0]["content"]
    assert "Write only this section." in messages[1]["content"]


def test_headlines_for_a_section_replace_its_heading_only(draft, user):
    suggestion = start_suggestion(
        origin=Origin(), loop=None, draft=draft, user=user, kind="headlines", section_index=1
    )
    assert suggestion.original == "Light"
    assert (
        "<target>\n## Light\n\nWarm light for late nights.\n\n</target>"
        in (suggestion.generation.messages[-1]["content"])
    )
    suggestion = finish(suggestion, "Glow\nBeam")

    use_headline(
        suggestion_id=suggestion.pk, choice=1, base_number=1, revision=0, author_id=user.pk
    )

    assert texts(draft)[-1] == TEXT.replace("## Light", "## Beam")
