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

from studio.ai import check_prompt
from studio.deepseek import BadRequest
from studio.guardrails.prompt_checks import validate_prompt

from .models import (
    BrandVoice,
    BrandVoiceVersion,
    Experiment,
    PromptTemplate,
    TemplateVersion,
)
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
            self.fields[var.name] = _field_for(var)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's <form> carries the hx-* attributes
        self.helper.css_container = TAILWIND_CLASSES

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
            raise forms.ValidationError(exc.user_message) from exc


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
            "audience (free text with suggestions; choices replace them). The brand voice is "
            "not a variable: pick it below."
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
        help_text=_("Included wherever a template says {{ brand_voice }}."),
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


# --- A/B experiments -----------------------------------------------------------------------

INPUT_CLASS = (
    "w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm "
    "dark:border-slate-700 dark:bg-slate-800"
)
MAX_VARIANTS = 4


class ExperimentForm(forms.Form):
    """What an experiment compares: a template (its variants below), a name, blind review."""

    name = forms.CharField(label=_("Name"), max_length=120)
    hypothesis = forms.CharField(
        label=_("Hypothesis (optional)"),
        max_length=300,
        required=False,
        help_text=_("What you expect, e.g. “a cooler temperature gives tighter copy”."),
    )
    template = forms.ModelChoiceField(label=_("Template"), queryset=PromptTemplate.objects.none())
    blind = forms.BooleanField(
        label=_("Blind review"),
        required=False,
        initial=True,
        help_text=_("Columns are shuffled and labelled A/B/C until you have voted."),
    )
    mode = forms.TypedChoiceField(
        label=_("Mode"),
        choices=Experiment.Mode.choices,
        initial=Experiment.Mode.SIDE_BY_SIDE,
        required=False,
        empty_value=Experiment.Mode.SIDE_BY_SIDE,
        help_text=_(
            "Single variant: each person generating from this template in the workspace always "
            "gets the same variant (by weight); the results compare edits and approvals."
        ),
    )

    def __init__(self, *args: Any, templates=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if templates is not None:
            self.fields["template"].queryset = templates
        for name in ("name", "hypothesis", "template", "mode"):
            self.fields[name].widget.attrs["class"] = INPUT_CLASS


def _variant_name(version: TemplateVersion, model: str, temperature: float | None) -> str:
    """A default name that says what the variant is: "v3 · deepseek-pro · t=0.3"."""
    parts = [f"v{version.number}", model, f"t={temperature:g}" if temperature is not None else ""]
    return " · ".join(p for p in parts if p)[:60]


class VariantForm(forms.Form):
    """One arm: a version of the chosen template, optionally with another model, temperature
    or brand voice version, and its weight (used when one variant is assigned per user)."""

    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    version = forms.ModelChoiceField(
        label=_("Version"),
        queryset=TemplateVersion.objects.none(),
        required=False,
        empty_label=_("(not used)"),
    )
    model = forms.CharField(label=_("Model override"), max_length=64, required=False)
    temperature = forms.FloatField(
        label=_("Temperature override"), min_value=0, max_value=2, required=False
    )
    brand_voice_version = forms.ModelChoiceField(
        label=_("Brand voice override"),
        queryset=BrandVoiceVersion.objects.none(),
        required=False,
        empty_label=_("(the version’s own)"),
    )
    weight = forms.IntegerField(
        label=_("Weight"), min_value=1, max_value=100, initial=1, required=False
    )

    def __init__(self, *args: Any, template=None, workspace=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if template is not None:
            self.fields["version"].queryset = template.versions.order_by("-number")
            self.fields["version"].label_from_instance = lambda v: (
                f"v{v.number}" + (f" — {v.note}" if v.note else "")
            )
        if workspace is not None:
            voices = BrandVoiceVersion.objects.filter(voice__workspace=workspace)
            self.fields["brand_voice_version"].queryset = voices.select_related("voice").order_by(
                "voice__name", "-number"
            )
            self.fields["brand_voice_version"].label_from_instance = lambda v: (
                f"{v.voice.name} v{v.number}"
            )
        for field in self.fields.values():
            field.widget.attrs["class"] = INPUT_CLASS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        extras = ("name", "model", "temperature", "brand_voice_version")
        if cleaned.get("version") is None and any(cleaned.get(f) not in (None, "") for f in extras):
            raise forms.ValidationError(_("Pick a version for this variant, or clear its row."))
        return cleaned

    def spec(self) -> dict[str, Any] | None:
        """The variant as ``create_experiment`` takes it (None for an unused row)."""
        data = getattr(self, "cleaned_data", {})
        version = data.get("version")
        if version is None:
            return None
        model, temperature = data.get("model") or "", data.get("temperature")
        return {
            "name": data.get("name") or _variant_name(version, model, temperature),
            "version": version,
            "model": model,
            "temperature": temperature,
            "brand_voice_version": data.get("brand_voice_version"),
            "weight": data.get("weight") or 1,
        }


class BaseVariantFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if len(self.specs()) < 2:
            raise forms.ValidationError(_("Pick a version for at least two variants."))

    def specs(self) -> list[dict[str, Any]]:
        """The used rows in order; a repeated name gets a number so results stay readable."""
        specs: list[dict[str, Any]] = []
        seen: set[str] = set()
        for form in self.forms:
            if (spec := form.spec()) is None:
                continue
            base, n = spec["name"], 2
            while spec["name"] in seen:
                spec["name"], n = f"{base} ({n})"[:60], n + 1
            seen.add(spec["name"])
            specs.append(spec)
        return specs


VariantFormSet = forms.formset_factory(
    VariantForm,
    formset=BaseVariantFormSet,
    extra=MAX_VARIANTS,
    max_num=MAX_VARIANTS,
    validate_max=True,
)


def variant_formset(data=None, *, template=None, workspace=None) -> BaseVariantFormSet:
    """Four variant rows; the first two start as the version in use and the one before it
    (the same version twice when there is only one: give the second another temperature)."""
    initial: list[dict[str, Any]] = []
    if template is not None and (current := template.current_version()) is not None:
        others = template.versions.exclude(pk=current.pk).order_by("-number")
        initial = [{"version": current}, {"version": others.first() or current}]
    return VariantFormSet(
        data,
        initial=initial,
        prefix="variants",
        form_kwargs={"template": template, "workspace": workspace},
    )
