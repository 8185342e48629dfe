"""The brief's form and the form that adds a deliverable."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from prompts.knowledge.models import Source
from prompts.models import BrandVoice, PromptTemplate

from .channels import CTA, LINK
from .labels import CHANNEL_CHOICES
from .models import Campaign, ChannelRule

MAX_OVERRIDES = 20


class CampaignForm(forms.ModelForm):
    """The brief; with ``workspace``, its brand voice and knowledge to pick from (without,
    there is nothing to pick)."""

    notes = forms.CharField(
        label=_("Brief"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Anything else the copy should know, in your own words."),
    )
    brand_voice = forms.ModelChoiceField(
        label=_("Brand voice"),
        queryset=BrandVoice.objects.none(),
        required=False,
        empty_label=_("None: each template's own"),
        help_text=_(
            "Every deliverable writes in this voice; the words it forbids are flagged on "
            "every channel."
        ),
    )
    knowledge_sources = forms.ModelMultipleChoiceField(
        label=_("Knowledge sources"),
        queryset=Source.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every deliverable is grounded in these sources, with citations."),
    )
    knowledge_tags = forms.MultipleChoiceField(
        label=_("Knowledge tags"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("And in every source carrying one of these tags."),
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
            "brand_voice",
            "knowledge_sources",
            "knowledge_tags",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, workspace=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        voices = BrandVoice.objects.filter(workspace=workspace)
        sources = Source.objects.active().filter(workspace=workspace)
        tags = {t for row in sources.values_list("tags", flat=True) for t in row or ()}
        tags |= set(self.instance.knowledge_tags or ())  # a tag no source carries now
        self.fields["brand_voice"].queryset = voices
        self.fields["knowledge_sources"].queryset = sources
        self.fields["knowledge_tags"].choices = [
            (tag, tag) for tag in sorted(tags, key=str.casefold) if isinstance(tag, str)
        ]
        # Nothing to pick (or no workspace given): the field is left out, and the campaign
        # keeps what it has.
        for name, empty in (
            ("brand_voice", workspace is None or not voices.exists()),
            ("knowledge_sources", workspace is None or not sources.exists()),
            ("knowledge_tags", workspace is None or not tags),
        ):
            if empty:
                del self.fields[name]
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
    # Opt-outs (unticked, or absent from a request, is the campaign's voice and knowledge).
    without_voice = forms.BooleanField(
        label=_("Without the campaign's brand voice"), required=False
    )
    without_knowledge = forms.BooleanField(
        label=_("Not grounded in the campaign's knowledge"), required=False
    )

    def __init__(self, workspace, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channels = ChannelRule.objects.effective(workspace.pk)
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
        data["use_voice"] = not data.pop("without_voice", False)
        data["use_knowledge"] = not data.pop("without_knowledge", False)
        channel, count = self.channels.get(data.get("channel", "")), data.get("count")
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


MAX_LIMIT = 10_000
MAX_ITEMS = 50


class ChannelRuleForm(forms.Form):
    """A workspace's limits for one channel (an owner's override of the built-in rules). How
    the channel counts is the platform's and is not edited; a one-piece channel (an email,
    an SMS) stays one item, and a list channel holds 2 to 50."""

    limit = forms.IntegerField(
        label=_("Characters per item"),
        required=False,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=_("Counted as the platform counts. Blank: no length rule."),
    )
    max_items = forms.IntegerField(
        label=_("Items at most"), min_value=1, max_value=MAX_ITEMS, required=False
    )
    requires_cta = forms.BooleanField(label=_("Requires a call to action"), required=False)
    requires_link = forms.BooleanField(label=_("Requires a link"), required=False)
    emoji = forms.BooleanField(label=_("Emoji allowed"), required=False)

    def __init__(self, channel, *args: Any, **kwargs: Any) -> None:
        self.channel = channel  # the built-in rules (is it a list? the SMS note)
        super().__init__(*args, **kwargs)
        if channel.key == "sms":
            self.fields["limit"].help_text = _(
                "Counted in GSM-7 septets or UCS-2 units. Blank: one message (160, or 70 "
                "with characters outside GSM-7)."
            )

    @classmethod
    def for_rules(cls, built_in, effective, *args: Any, **kwargs: Any) -> ChannelRuleForm:
        """The form showing ``effective`` (the workspace's rules for ``built_in``)."""
        initial = {
            "limit": effective.limit,
            "max_items": effective.max_items,
            "requires_cta": CTA in effective.requires,
            "requires_link": LINK in effective.requires,
            "emoji": effective.emoji,
        }
        return cls(built_in, *args, initial=initial, **kwargs)

    def clean_max_items(self) -> int:
        items = self.cleaned_data.get("max_items")
        if not self.channel.is_list:
            return 1  # one piece: the field is not shown, and nothing else is accepted
        if items is None:
            raise forms.ValidationError(_("Say how many items this channel takes."))
        if items < 2:
            raise forms.ValidationError(
                _("This channel is a list: it takes %(min)s to %(max)s items."),
                params={"min": 2, "max": MAX_ITEMS},
            )
        return items


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
