"""Forms generated from a template version's typed variables."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TemplateVersion
from .rendering import placeholders

# Built-in choice lists for the typed variables that need no author-provided choices.
TONES = ["friendly", "professional", "playful", "bold", "empathetic", "authoritative"]
LANGUAGES = ["English", "简体中文"]
VARIABLE_TYPES = {"text", "textarea", "choice", "number", "tone", "language"}


def validate_variables(variables: list[dict[str, Any]], *texts: str) -> list[str]:
    """Problems with a variable list and the prompt texts using it (empty when valid)."""
    problems: list[str] = []
    names = [v.get("name", "") for v in variables]
    for var in variables:
        if not str(var.get("name", "")).isidentifier():
            problems.append(f"Variable name {var.get('name')!r} is not a valid identifier.")
        if var.get("type", "text") not in VARIABLE_TYPES:
            problems.append(f"Variable {var.get('name')!r} has unknown type {var.get('type')!r}.")
        if var.get("type") == "choice" and not var.get("choices"):
            problems.append(f"Choice variable {var.get('name')!r} needs choices.")
    if len(set(names)) != len(names):
        problems.append("Variable names must be unique.")
    for text in texts:
        for name in sorted(placeholders(text) - set(names)):
            problems.append(f"The prompt uses {{{{ {name} }}}} but no such variable is declared.")
    return problems


def _field_for(var: dict[str, Any]) -> forms.Field:
    kind = var.get("type", "text")
    common: dict[str, Any] = {
        "label": var.get("label") or var["name"].replace("_", " ").capitalize(),
        "required": var.get("required", True),
        "help_text": var.get("help", ""),
        "initial": var.get("default"),
    }
    if kind == "number":
        return forms.IntegerField(min_value=var.get("min"), max_value=var.get("max"), **common)
    if kind in {"choice", "tone", "language"}:
        options = var.get("choices") or (TONES if kind == "tone" else LANGUAGES)
        return forms.ChoiceField(choices=[(o, o) for o in options], **common)
    if kind == "textarea":
        return forms.CharField(
            max_length=var.get("max_length", 4000),
            widget=forms.Textarea(attrs={"rows": 5}),
            **common,
        )
    return forms.CharField(max_length=var.get("max_length", 300), **common)


class TemplateForm(forms.Form):
    """The fields a template version asks for; ``cleaned_data`` feeds its prompts."""

    def __init__(self, version: TemplateVersion, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        for var in version.variables:
            self.fields[var["name"]] = _field_for(var)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's <form> carries the hx-* attributes

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text_length = sum(len(str(v)) for v in cleaned.values() if v is not None)
        if text_length > 20_000:
            raise forms.ValidationError(_("The inputs are too long (20,000 characters at most)."))
        return cleaned
