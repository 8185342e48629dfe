"""The experiment form: a template, its variants (a formset of versions, models and
temperatures, each with an optional brand voice), a name and blind review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from prompts.models import BrandVoiceVersion, PromptTemplate, TemplateVersion

from .models import Experiment

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
