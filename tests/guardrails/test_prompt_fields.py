"""PromptField: the prompt checks as a form field's own errors, for every text users type."""

from django import forms

from studio.guardrails.prompt_fields import PromptField, prompt_errors


class AskLike(forms.Form):
    text = PromptField(max_chars=20, required=False)
    index = forms.IntegerField(min_value=0)


def test_a_clean_text_passes_and_keeps_every_character():
    form = AskLike({"text": "Shorter, please.", "index": 1})

    assert form.is_valid() and form.cleaned_data["text"] == "Shorter, please."


def test_an_over_long_text_is_a_field_error_never_a_cut():
    form = AskLike({"text": "x" * 21, "index": 1})

    assert not form.is_valid()
    assert prompt_errors(form) == {
        "text": "This text is 21 characters long; the limit is 20. Shorten it."
    }
    assert form.data["text"] == "x" * 21  # what the page shows again


def test_a_blocked_pattern_is_a_field_error_naming_it(settings):
    settings.PROMPT_BLOCKED_PATTERNS = {"a ticket number": r"\bTKT-\d+"}
    form = AskLike({"text": "see TKT-12", "index": 0})

    assert not form.is_valid()
    assert "a ticket number" in prompt_errors(form)["text"]


def test_errors_elsewhere_are_not_the_users_to_fix_in_place():
    """A garbled hidden field means a forged or stale request, answered as such."""
    form = AskLike({"text": "x" * 21, "index": "nope"})

    assert not form.is_valid() and prompt_errors(form) is None
