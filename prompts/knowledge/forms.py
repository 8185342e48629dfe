"""The upload form: a file, pasted text or a URL. What was given is parsed in ``clean``
(``cleaned_data["document"]``), unless it is too long to read in a request: then it is
checked as far as it can be without parsing and left to the background worker
(``cleaned_data["upload"]``, an ``actions.Upload``)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .actions import Upload, clean_tags
from .fetching import fetch
from .parsing import Document, Kind, SourceError, kind_for, parse, precheck

PASTE_KINDS = [(Kind.MARKDOWN, "Markdown"), (Kind.TEXT, _("Plain text")), (Kind.HTML, "HTML")]


class DocumentForm(forms.Form):
    """One document, three ways in; ``cleaned_data["document"]`` is the parsed Document, or
    ``cleaned_data["upload"]`` the bytes of one to read in the background."""

    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("Markdown, text, HTML, DOCX or PDF."),
    )
    text = forms.CharField(label=_("Or paste text"), required=False, widget=forms.Textarea)
    text_format = forms.ChoiceField(label=_("Pasted text is"), choices=PASTE_KINDS)
    url = forms.URLField(label=_("Or fetch a URL"), required=False, assume_scheme="https")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's <form> sets the enctype

    def clean_file(self):
        """Refuse an oversized upload by its declared size, before anything reads it."""
        upload = self.cleaned_data["file"]
        if upload and upload.size > settings.KNOWLEDGE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(max)s KB)."),
                params={"max": settings.KNOWLEDGE_MAX_BYTES // 1024},
            )
        return upload

    def clean(self):
        data = super().clean()
        given = [name for name in ("file", "text", "url") if data.get(name)]
        if len(given) != 1 and not self.errors:
            raise forms.ValidationError(_("Give one document: a file, pasted text or a URL."))
        if given and not self.errors:
            try:
                data.update(self._parse(given[0]))
            except SourceError as error:
                self.add_error(given[0], str(error))
        return data

    def _parse(self, way: str) -> dict[str, Document | Upload]:
        if way == "url":
            return {"document": fetch(self.cleaned_data["url"])}
        if way == "file":
            upload = self.cleaned_data["file"]
            data, kind, name = upload.read(), kind_for(upload.name), upload.name
        else:
            data, kind, name = (
                self.cleaned_data["text"].encode(),
                self.cleaned_data["text_format"],
                "",
            )
        if precheck(data, kind=kind):
            return {"upload": Upload(data, kind, name)}
        return {"document": parse(data, kind=kind, filename=name)}


class SourceForm(DocumentForm):
    """A new source: its title and tags, then its first document."""

    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Empty: the document's first heading, or its file name."),
    )
    tags = forms.CharField(
        label=_("Tags"), max_length=400, required=False, help_text=_("Separated by commas.")
    )
    field_order = ["title", "tags", "file", "text", "text_format", "url"]

    def clean_tags(self) -> list[str]:
        return clean_tags(self.cleaned_data["tags"])
