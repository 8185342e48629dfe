"""The shared fixtures build what the studio itself would (tests/conftest.py)."""

from __future__ import annotations

import json

from django.apps import apps

from prompts.actions import import_template
from prompts.management.commands.load_demo_templates import DEMO_FILE
from prompts.models import PromptTemplate, TemplateVersion
from tests.conftest import _values


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_demo_templates_are_the_demo_file_imported(demo_templates):
    """Importing the file over the fixture's rows finds every template and version as it
    would have made them: nothing changes, nothing is added."""
    counts = _row_counts()
    definitions = json.loads(DEMO_FILE.read_text("utf-8"))
    for template, data in zip(demo_templates, definitions, strict=True):
        imported = import_template(data=data)
        assert imported.template == template
        assert not imported.created and imported.labels == []
        assert _values(PromptTemplate.objects.get(pk=template.pk)) == _values(template)
    assert _row_counts() == counts


def test_importing_the_demo_file_adds_only_what_the_fixture_inserts(db, _demo_rows):
    before = _row_counts()
    for data in json.loads(DEMO_FILE.read_text("utf-8")):
        import_template(data=data)
    added = {label: n - before[label] for label, n in _row_counts().items() if n != before[label]}
    assert added == {
        PromptTemplate._meta.label: len(_demo_rows),
        TemplateVersion._meta.label: sum(len(versions) for _, versions in _demo_rows),
    }
