"""Forms generated from a template version's typed variables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_tailwind.tailwind import CSSContainer
from crispy_tailwind.templatetags.tailwind_field import CrispyTailwindFieldNode
from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from studio import client_messages
from studio.ai import check_prompt
from studio.deepseek import BadRequest
from studio.guardrails.prompt_checks import validate_prompt

from .models import BrandVoice, PromptTemplate, TemplateVersion
from .schema import (
    MAX_TOKENS,
    problems_by_variable,
    variable_problems,
    variables_problems,
    version_problems,
)
from .transfer import MAX_BYTES
from .variable_builder import FORM, Builder
from .variables import Variable


def validate_variables(variables: list[dict[str, Any]], *texts: str) -> list[str]:
    """Problems with a variable list and the prompt texts using it (empty when valid)."""
    return variables_problems(variables, *texts)


class SuggestionsInput(forms.TextInput):
    """A text input with a ``<datalist>`` of suggestions: the browser offers them as the
    person types (and to screen readers as a combobox), any other text is still accepted."""

    def __init__(self, suggestions: Sequence[str], attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.suggestions = suggestions

    def render(self, name, value, attrs=None, renderer=None) -> str:
        list_id = f"{(attrs or {}).get('id') or f'id_{name}'}-suggestions"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join(
            "", '<option value="{}"></option>', ((s,) for s in self.suggestions)
        )
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)


# crispy-tailwind picks an input's classes by its widget's class name, less "Input" ("suggestions"
# here), and has none for ours: it gets the text input's (which also carry the dark-mode colours).
TAILWIND_CLASSES = CSSContainer(CrispyTailwindFieldNode.default_styles)
TAILWIND_CLASSES.suggestions = TAILWIND_CLASSES.text


def _field_for(var: Variable) -> forms.Field:
    kind = var.type
    common: dict[str, Any] = {
        "label": var.field_label(),
        "required": var.required,
        "help_text": var.help,
        "initial": var.default,
    }
    if kind == "number":
        return forms.IntegerField(min_value=var.min, max_value=var.max, **common)
    if var.is_picked:
        return forms.ChoiceField(choices=[(o, o) for o in var.options()], **common)
    if kind == "audience":
        widget = SuggestionsInput(var.options(), attrs={"autocomplete": "off"})
        return forms.CharField(max_length=var.text_length(), widget=widget, **common)
    if kind == "textarea":
        widget = forms.Textarea(attrs={"rows": 5})
        return forms.CharField(max_length=var.text_length(), widget=widget, **common)
    return forms.CharField(max_length=var.text_length(), **common)


class TemplateForm(forms.Form):
    """The fields a template version asks for; ``cleaned_data`` feeds its prompts."""

    def __init__(self, version: TemplateVersion, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        # Through the schema: a version saved before it with a bad option still gets a form.
        for var in version.variable_specs:
            if not var.is_knowledge:  # filled with passages at generation time, not typed
                self.fields[var.name] = _field_for(var)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's <form> carries the hx-* attributes
        self.helper.css_container = TAILWIND_CLASSES

    def grounding_note(self) -> str:
        return self.version.grounding_note()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text_length = sum(len(str(v)) for v in cleaned.values() if v is not None)
        if text_length > 20_000:
            raise forms.ValidationError(_("The inputs are too long (20,000 characters at most)."))
        if not self.errors:
            self._check_prompt(cleaned)
        return cleaned

    def _check_prompt(self, cleaned: dict[str, Any]) -> None:
        """Refuse, before any call, a blocked prompt or one over the model's context."""
        params = self.version.generation_params()
        messages = self.version.build_messages(cleaned)
        validate_prompt(messages)  # blocked patterns, length caps: a ValidationError naming why
        try:
            check_prompt(
                messages,
                model=str(params["model"]),
                max_tokens=params.get("max_tokens"),  # type: ignore[arg-type]
            )
        except BadRequest as exc:
            raise forms.ValidationError(client_messages.translated(exc.user_message)) from exc


class VariablesField(forms.CharField):
    """The variables as a JSON list in a textarea: parsed here, checked in the form's clean."""

    widget = forms.Textarea(attrs={"rows": 12, "class": "font-mono text-sm", "spellcheck": "false"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        text = (super().to_python(value) or "").strip() or "[]"
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(
                _("Not valid JSON (line %(line)s): %(message)s"),
                params={
                    "line": getattr(error, "lineno", "?"),
                    "message": getattr(error, "msg", error),
                },
            ) from error
        return parsed


class TemplateEditForm(forms.Form):
    """A template's name and what its next version says; saving adds a version."""

    name = forms.CharField(label=_("Name"), max_length=120)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=PromptTemplate.Purpose.choices)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    system_prompt = forms.CharField(
        label=_("System message"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Use {{ name }} for a variable and {{ brand_voice }} for the brand voice."),
    )
    user_prompt = forms.CharField(label=_("User message"), widget=forms.Textarea(attrs={"rows": 6}))
    variables = VariablesField(
        label=_("Variables (JSON)"),
        required=False,
        help_text=_(
            'A list like [{"name": "product", "label": "Product", "type": "text"}]. Types: '
            "text, textarea, choice (with choices), number (min, max), tone, language, "
            "audience (free text with suggestions; choices replace them), knowledge (no "
            'input: {"tags": [...], "sources": [...], "passages": 5} pick the workspace\'s '
            "sources that fill {{ name }} with numbered passages). The brand voice is not a "
            "variable: pick it below."
        ),
    )
    brand_voice = forms.ModelChoiceField(
        label=_("Brand voice"),
        queryset=BrandVoice.objects.none(),
        required=False,
        help_text=_(
            "The one place a template's brand voice is set: its newest text fills "
            "{{ brand_voice }} in the prompts."
        ),
    )
    follow_voice = forms.BooleanField(required=False)
    model = forms.CharField(
        label=_("Model"), max_length=64, required=False, help_text=_("Blank: the default model.")
    )
    thinking = forms.BooleanField(label=_("Thinking mode"), required=False)
    temperature = forms.FloatField(label=_("Temperature"), min_value=0, max_value=2, required=False)
    max_tokens = forms.IntegerField(
        label=_("Max tokens"), min_value=1, max_value=MAX_TOKENS, required=False
    )
    note = forms.CharField(label=_("What changed"), max_length=200, required=False)

    def __init__(self, *args: Any, workspace=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The variables builder (rows or JSON); a button it posted is applied here already.
        if self.is_bound:
            self.builder = Builder.from_data(self.data)
        else:
            self.builder = Builder.from_json(self.initial.get("variables"))
        if workspace is not None:
            self.fields["brand_voice"].queryset = BrandVoice.objects.filter(workspace=workspace)
        # Only when the latest version pins an older voice version (an experiment's winner):
        # the way back to following the voice's newest text.
        if pinned := self.initial.get("pinned_voice"):
            self.fields["follow_voice"].label = _(
                "Use %(voice)s's newest text (the latest version pins v%(n)s, the text an "
                "experiment's winner was tested with)"
            ) % {"voice": pinned.voice.name, "n": pinned.number}  # escaped where rendered
        else:
            del self.fields["follow_voice"]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_variables(self) -> Any:
        """In the builder's form mode its rows are the variables (the JSON is not posted)."""
        if self.builder.mode == FORM:
            return self.builder.variables()
        return self.cleaned_data["variables"]

    def grounding_note(self) -> str:
        return self.version.grounding_note()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "variables" in cleaned and self.builder.mode == FORM:
            self._check_rows(cleaned)  # each row's own problems, even before the prompts
        elif {"variables", "system_prompt", "user_prompt"} <= cleaned.keys():
            # The same schema as import: a problem goes to its field (variables' to theirs).
            for field, problem in version_problems(cleaned):
                self.add_error(field if field in self.fields else "variables", problem)
        return cleaned

    def _check_rows(self, cleaned: dict[str, Any]) -> None:
        """Each variable's problems go next to its row; the rest (a placeholder no variable
        declares, a bad prompt) to the variables' or their own field."""
        variables = cleaned["variables"]
        by_row = problems_by_variable(variables)
        self.builder.show_problems(by_row)
        if by_row:
            self.add_error("variables", _("Fix the variables marked below."))
        texts = (cleaned.get("system_prompt", ""), cleaned.get("user_prompt", ""))
        row_level = {p for problems in by_row.values() for p in problems}
        for problem in variable_problems(variables, *texts):
            if problem not in row_level:
                self.add_error("variables", problem)
        if {"system_prompt", "user_prompt"} <= cleaned.keys():
            data = {**cleaned, "variables": None}  # the variables themselves are checked above
            for field, problem in version_problems(data):
                if field != "variables":
                    self.add_error(field if field in self.fields else "variables", problem)

    @classmethod
    def initial_for(cls, template: PromptTemplate) -> dict[str, Any]:
        version = template.latest_version()
        initial: dict[str, Any] = {
            f: getattr(template, f) for f in ("name", "purpose", "description")
        }
        if version:
            fields = ("system_prompt", "user_prompt", "variables", "model", "thinking")
            initial |= {f: getattr(version, f) for f in fields}
            initial |= {"temperature": version.temperature, "max_tokens": version.max_tokens}
            initial["brand_voice"] = version.brand_voice_id
            initial["pinned_voice"] = version.brand_voice_version
        return initial


class BrandVoiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    text = forms.CharField(
        label=_("Style guide"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=8000,
        help_text=_(
            "Included wherever a template says {{ brand_voice }}. A line such as “Forbidden "
            "words: cheap, revolutionary” lists the words a campaign flags."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ImportForm(forms.Form):
    file = forms.FileField(label=_("JSON or YAML export"))
    # Off by default: moving production changes what everyone generates with.
    move_labels = forms.BooleanField(label=_("Move labels named in the file"), required=False)

    def clean_file(self):
        """Refuse an oversized upload by its declared size, before anything reads it."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(max)s KB)."), params={"max": MAX_BYTES // 1024}
            )
        return upload
