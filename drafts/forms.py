from django import forms
from django.utils.translation import gettext_lazy as _

from studio.guardrails.prompt_fields import PromptField

from .models import Draft


class PickTemplateForm(forms.Form):
    """Which template (by id) the workspace form shows."""

    template = forms.IntegerField(required=False, min_value=1)
    draft = forms.IntegerField(required=False, min_value=1)


class EditForm(forms.Form):
    """The editor: the text and the version number it was based on (0: no version yet)."""

    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    base = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def clean_text(self) -> str:
        # A form submitted without JavaScript sends the textarea's lines as CRLF (HTML's
        # rule); htmx sends its value, LF. One stored form: the same text is the same version.
        return self.cleaned_data["text"].replace("\r\n", "\n")


class CompareForm(forms.Form):
    """Which two versions to compare (numbers); missing ones default to the last two."""

    a = forms.IntegerField(required=False, min_value=1)
    b = forms.IntegerField(required=False, min_value=1)


class DraftFilterForm(forms.Form):
    """Search, filters and order of a workspace's drafts list; bad values are ignored."""

    SORTS = {
        "-updated": _("Recently updated"),
        "-created": _("Newest"),
        "created": _("Oldest"),
        "title": _("Title A–Z"),
    }

    q = forms.CharField(required=False, max_length=200, label=_("Search"))
    template = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    author = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    variant = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()))
    # Side-by-side experiment runs write drafts too: hidden unless asked for.
    experiments = forms.BooleanField(required=False, label=_("Show experiment drafts"))

    def __init__(self, data, *, templates, authors, variants=()) -> None:
        super().__init__(data)
        self.fields["template"].choices = [("", _("All templates"))] + [
            (t.pk, t.name) for t in templates
        ]
        self.fields["template"].label = _("Template")
        self.fields["author"].choices = [("", _("All authors"))] + [
            (u.pk, u.get_username()) for u in authors
        ]
        self.fields["author"].label = _("Author")
        if variants:
            self.fields["variant"].choices = [("", _("All variants"))] + [
                (pk, f"{experiment} · {name}") for pk, experiment, name in variants
            ]
            self.fields["variant"].label = _("Variant")
        else:  # no experiment has run here: no filter to offer
            del self.fields["variant"]
        self.fields["status"].choices = [("", _("Any status")), *Draft.Status.choices]
        self.fields["status"].label = _("Status")
        self.fields["sort"].label = _("Sort")

    def filters(self) -> dict[str, object]:
        """The valid values only: a stale or forged one is dropped, not an error page."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Draft.Status.choices)


class StartForm(forms.Form):
    """A form that starts a suggestion: refused, the panel offers it again as typed."""

    notice_key = "section_notice"  # the panel's notice about it (drafts/sections.html)

    def retry(self, error: str = "") -> dict[str, object]:
        """The panel's context to show the form again as typed, with ``error`` by its text."""
        raise NotImplementedError


class SectionGenerateForm(StartForm):
    """Regenerate or expand one section (its index in the outline of version ``base``)."""

    base = forms.IntegerField(min_value=1)
    index = forms.IntegerField(min_value=0)
    action = forms.ChoiceField(choices=[("regenerate", "regenerate"), ("expand", "expand")])
    instruction = PromptField(required=False, max_chars=500)

    def retry(self, error: str = "") -> dict[str, object]:
        index = getattr(self, "cleaned_data", {}).get("index")
        typed = self.data.get("instruction", "")
        return {"section_retry": {"index": index, "instruction": typed, "error": error}}


class SectionMoveForm(forms.Form):
    base = forms.IntegerField(min_value=1)
    index = forms.IntegerField(min_value=0)
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])

    def target(self) -> int:
        """The neighbour the section moves towards (it moves past that one's whole block)."""
        return self.cleaned_data["index"] + (-1 if self.cleaned_data["direction"] == "up" else 1)


class RewriteForm(StartForm):
    """A rewrite of the selection, else the chosen section, else the whole draft."""

    notice_key = "suggestion_notice"

    KINDS = ["shorter", "formal", "translate", "headlines"]

    base = forms.IntegerField(min_value=1)
    kind = forms.ChoiceField(choices=[(kind, kind) for kind in KINDS])
    language = forms.ChoiceField(required=False, choices=[("en", "en"), ("zh-hans", "zh-hans")])
    selection = PromptField(required=False, max_chars=20000)
    section = forms.IntegerField(required=False, min_value=0)

    def retry(self, error: str = "") -> dict[str, object]:
        section = getattr(self, "cleaned_data", {}).get("section")
        typed = self.data.get("selection", "")
        return {"rewrite_retry": {"selection": typed, "section": section, "error": error}}


class DecideForm(forms.Form):
    """Accept or reject one change (``accept:3``) or all of them (``accept``)."""

    base = forms.IntegerField(min_value=1)
    revision = forms.IntegerField(min_value=0)
    # ASCII digits, a few: int() refuses thousands of them (a 500, not a form error).
    decision = forms.RegexField(regex=r"\A(accept|reject)(:[0-9]{1,9})?\Z")

    def parsed(self) -> tuple[bool, int | None]:
        verb, _, change = self.cleaned_data["decision"].partition(":")
        return verb == "accept", int(change) if change else None


class HeadlineForm(forms.Form):
    base = forms.IntegerField(min_value=1)
    revision = forms.IntegerField(min_value=0)
    choice = forms.IntegerField(min_value=0)
