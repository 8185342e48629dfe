"""The brief's form and the form that adds a deliverable."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from prompts.models import PromptTemplate

from .channels import BUILT_IN
from .labels import CHANNEL_CHOICES
from .models import Campaign

MAX_OVERRIDES = 20


class CampaignForm(forms.ModelForm):
    notes = forms.CharField(
        label=_("Brief"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Anything else the copy should know, in your own words."),
    )

    class Meta:
        model = Campaign
        fields = [
            "title",
            "product",
            "audience",
            "offer",
            "key_message",
            "starts_on",
            "ends_on",
            "notes",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The campaign cannot end before it starts."))
        return data


class DeliverableForm(forms.Form):
    """A template of the workspace, a channel, how many items, and overrides as
    ``name = value`` lines."""

    template = forms.ModelChoiceField(label=_("Template"), queryset=PromptTemplate.objects.none())
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNEL_CHOICES)
    count = forms.IntegerField(label=_("Items"), min_value=1, initial=1)
    overrides = forms.CharField(
        label=_("Overrides"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-mono text-sm"}),
        help_text=_("One per line, as name = value: they win over what the brief fills in."),
    )

    def __init__(self, workspace, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PromptTemplate.objects.for_workspace(workspace)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_overrides(self) -> dict[str, str]:
        overrides: dict[str, str] = {}
        for line in self.cleaned_data["overrides"].splitlines():
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            name = name.strip()
            if not equals or not name.isidentifier():
                raise forms.ValidationError(
                    _("Write each override as name = value: “%(line)s”."),
                    params={"line": line.strip()[:80]},
                )
            overrides[name] = value.strip()
        if len(overrides) > MAX_OVERRIDES:
            raise forms.ValidationError(_("At most %(n)s overrides."), params={"n": MAX_OVERRIDES})
        return overrides

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        channel, count = BUILT_IN.get(data.get("channel", "")), data.get("count")
        if channel and count and count > channel.max_items:
            self.add_error(
                "count", _("This channel takes at most %(n)s.") % {"n": channel.max_items}
            )
        template = data.get("template")
        if template and template.current_version() is None:
            self.add_error("template", _("This template has no version yet."))
        elif template and "overrides" in data:
            known = {var.name for var in template.current_version().variable_specs}
            if unknown := sorted(set(data["overrides"]) - known):
                self.add_error(
                    "overrides",
                    _("The template has no variable named %(names)s.")
                    % {"names": ", ".join(unknown)},
                )
        return data


class CommentForm(forms.Form):
    """A comment: its text, and for a reply its parent, for a selection its quote and start."""

    body = forms.CharField(
        label=_("Comment"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Mention a member with @username."),
    )
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    quote = forms.CharField(required=False, max_length=2000, strip=False, widget=forms.HiddenInput)
    start = forms.IntegerField(
        required=False, min_value=0, max_value=10_000_000, widget=forms.HiddenInput
    )


# Ids and version numbers fit PostgreSQL's integer: a larger one is a form error, not a 500.
_MAX_ID = 2**31 - 1


class FitForm(forms.Form):
    """Fit to limits, of the version the board showed (``base``)."""

    base = forms.IntegerField(min_value=1, max_value=_MAX_ID)


class FitDecideForm(forms.Form):
    """Accept or reject a Fit to limits as a whole, as the board showed it: the version
    (``base``) and the suggestion's state (``revision``)."""

    suggestion = forms.IntegerField(min_value=1, max_value=_MAX_ID)
    base = forms.IntegerField(min_value=1, max_value=_MAX_ID)
    revision = forms.IntegerField(min_value=0, max_value=_MAX_ID)
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
