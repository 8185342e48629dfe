"""The form field for text that goes to the model, and reading its errors back."""

from __future__ import annotations

from typing import Any

from django import forms

from .prompt_checks import CODES, validate_text


class PromptField(forms.CharField):
    """Text a user types that goes to the model (a question, an instruction, a selection).

    Refused with a field error that says why (``prompt_checks.validate_text``): longer
    than ``max_chars`` (and PROMPT_MAX_CHARS), or containing a blocked pattern. Never cut
    short: the text comes back as typed, with the error beside it.
    """

    def __init__(self, *, max_chars: int = 0, **kwargs: Any) -> None:
        self.max_chars = max_chars
        super().__init__(**kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            validate_text(value, max_chars=self.max_chars)


def prompt_errors(form: forms.Form) -> dict[str, str] | None:
    """The errors of an invalid form when all are the prompt checks' (text the user can fix
    where they typed it), as ``{field: message}``; None when anything else is wrong (a
    garbled or forged request, answered as such)."""
    found: dict[str, str] = {}
    for name, errors in form.errors.as_data().items():
        if not (isinstance(form.fields.get(name), PromptField) and errors):
            return None
        if not all(error.code in CODES or error.code == "required" for error in errors):
            return None
        found[name] = " ".join(message for error in errors for message in error.messages)
    return found or None
