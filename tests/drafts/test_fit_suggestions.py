"""Fit to limits as a drafts suggestion: the caller's prompt and parts, the answer's numbered
items put in those parts only, accepted as a version; a stale one never overwrites a newer
version."""

import pytest

from drafts.actions import VersionConflict, add_version, finish_generation
from drafts.models import Draft, Generation, Suggestion
from drafts.rewrite_prompts import fill_parts
from drafts.suggestions import NotApplicable, decide, start_fit
from studio.audit.origin import Origin

TEXT = "- Warm light that lasts all night long for readers\n- Read late\n- Lumen 台灯🙂"
PARTS = [(2, 50), (65, 74)]  # the first and the third item
PROMPT = [{"role": "user", "content": 'Item 1 breaks: too long.\n<item n="1">…</item>'}]


@pytest.fixture
def draft(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Lumen", created_by=user)
    add_version(draft_id=draft.pk, text=TEXT, source="generated", author_id=user.pk)
    return draft


def fit(draft, user, base: int = 1) -> Suggestion:
    return start_fit(
        draft=draft,
        user=user,
        origin=Origin(),
        loop=None,
        messages=PROMPT,
        parts=PARTS,
        base_number=base,
    )


def finish(suggestion: Suggestion, text: str, status: str = "done") -> Suggestion:
    finish_generation(
        generation_id=suggestion.generation_id, status=status, text=text, reasoning="", fields={}
    )
    suggestion.refresh_from_db()
    return suggestion


def test_the_parts_are_what_the_caller_named():
    assert [TEXT[s:e] for s, e in PARTS] == [
        "Warm light that lasts all night long for readers",
        "Lumen 台灯🙂",
    ]


def test_the_answer_fills_only_its_parts_and_the_rest_stays_verbatim():
    answer = '<item n="1">Warm light all night</item>\n<item n="2">\nLumen 台灯\n</item>'
    assert fill_parts(answer, TEXT, PARTS) == "- Warm light all night\n- Read late\n- Lumen 台灯"


def test_a_missing_or_empty_item_keeps_its_part_and_a_bare_answer_fills_a_lone_part():
    assert fill_parts('<item n="2">Lumen</item>', TEXT, PARTS) == TEXT.replace(" 台灯🙂", "")
    assert fill_parts('<item n="1"></item><item n="9">x</item>', TEXT, PARTS) == TEXT
    assert fill_parts("Read late, warmly", TEXT, [(53, 62)]) == TEXT.replace(
        "Read late", "Read late, warmly"
    )
    assert fill_parts('<item n="1">unclosed', TEXT, [(53, 62)]) == TEXT  # stopped mid-way


def test_a_fit_is_a_generation_through_the_generate_action_with_the_callers_prompt(draft, user):
    suggestion = fit(draft, user)
    generation = Generation.objects.get(pk=suggestion.generation_id)
    assert generation.messages == PROMPT and generation.draft_id == draft.pk
    assert (suggestion.kind, suggestion.start, suggestion.end) == ("fit", 0, len(TEXT))
    assert suggestion.original == TEXT and suggestion.parts == [list(p) for p in PARTS]


def test_an_accepted_fit_is_a_new_version_with_only_the_broken_items_changed(draft, user):
    suggestion = finish(fit(draft, user), '<item n="1">Warm light</item><item n="2">Lumen</item>')
    assert suggestion.status == "pending"
    assert suggestion.proposed == "- Warm light\n- Read late\n- Lumen"
    decide(
        suggestion_id=suggestion.pk,
        accept=True,
        change=None,
        base_number=1,
        revision=0,
        author_id=user.pk,
    )
    assert draft.latest_version().text == "- Warm light\n- Read late\n- Lumen"
    assert draft.latest_version().source == "suggestion"


def test_a_fit_of_a_version_that_is_not_the_newest_is_refused(draft, user):
    add_version(draft_id=draft.pk, text=TEXT + "\n- More", source="edited", author_id=user.pk)
    with pytest.raises(VersionConflict):
        fit(draft, user, base=1)
    assert not Suggestion.objects.exists()


def test_a_stale_fit_never_overwrites_a_newer_version(draft, user):
    suggestion = finish(fit(draft, user), '<item n="1">Warm light</item>')
    edited = TEXT.replace("Read late", "Read later")
    add_version(draft_id=draft.pk, text=edited, source="edited", author_id=user.pk)
    args = {"suggestion_id": suggestion.pk, "accept": True, "change": None, "revision": 0}
    with pytest.raises(VersionConflict):
        decide(**args, base_number=1, author_id=user.pk)  # the page showed v1
    with pytest.raises(NotApplicable):  # shown v2, but the fit was written for v1's text
        decide(**args, base_number=2, author_id=user.pk)
    assert draft.latest_version().text == edited and draft.versions.count() == 2


def test_parts_outside_the_text_are_refused(draft, user):
    with pytest.raises(ValueError):
        start_fit(
            draft=draft, user=user, origin=Origin(), loop=None, messages=PROMPT,
            parts=[(0, len(TEXT) + 1)], base_number=1,
        )  # fmt: skip
