"""Finding 1: a template variable's label and help are user text, never markup.

The reproduction: an editor saved a label holding a ``<span hx-post=… hx-trigger=load>``;
crispy-tailwind rendered ``{{ field.label|safe }}``, htmx posted with the owner's CSRF token
when the owner opened the workspace page, and the editor became owner.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from crispy_forms.utils import render_crispy_form
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from prompts.forms import TemplateForm
from prompts.models import PromptTemplate
from studio.workspaces.actions import add_member, create_workspace

LABEL = (
    '<span hx-post="/w/1/members/" hx-trigger="load" hx-swap="none" '
    'hx-vals=\'{"member":"4","role":"owner"}\'>Topic</span>'
)
HELP = '<meta http-equiv="refresh" content="0;url=/x">'
VARIABLES = [{"name": "topic", "label": LABEL, "help": HELP}]


class _Attributes(HTMLParser):
    """Every attribute (name, value) of every element in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: set[tuple[str, str | None]] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.pairs |= set(attrs)


def _attributes(html: str) -> set[tuple[str, str | None]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.pairs


# What the payloads would add to the DOM if they were markup.
PLANTED = {
    ("hx-post", "/w/1/members/"),
    ("hx-trigger", "load"),
    ("hx-vals", '{"member":"4","role":"owner"}'),
    ("http-equiv", "refresh"),
}


@pytest.fixture
def space(db):
    owner = get_user_model().objects.create_user("owner")
    return create_workspace(name="Team", owner=owner)


@pytest.fixture
def editor(space) -> Client:
    user = get_user_model().objects.create_user("editor")
    add_member(workspace=space, user=user, role="editor")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(space) -> Client:
    client = Client()
    client.force_login(space.created_by)
    return client


def _template_data(name: str) -> dict[str, object]:
    return {
        "name": name,
        "purpose": "copy",
        "system_prompt": "You write copy.",
        "user_prompt": "Write about {{ topic }}.",
        "variables": json.dumps(VARIABLES),
    }


def _assert_shown_as_text(html: str) -> None:
    assert "<span hx-post" not in html and "<meta http-equiv" not in html
    assert "&lt;span hx-post=&quot;/w/1/members/&quot;" in html  # the label, as text
    assert "&lt;meta http-equiv=&quot;refresh&quot;" in html  # the help, as text
    assert not PLANTED & _attributes(html)


def test_a_label_saved_in_the_editor_is_text_on_the_owners_workspace_page(space, editor, owner):
    response = editor.post(f"/w/{space.pk}/templates/new/", _template_data("Aaa first"))
    assert response.status_code == 302
    assert PromptTemplate.objects.get(workspace=space).current_version().variables[0]["label"]

    page = owner.get(f"/w/{space.pk}/")

    assert page.status_code == 200
    _assert_shown_as_text(page.content.decode())


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_label_imported_from_a_file_is_text_on_the_workspace_page(space, editor, owner, fmt):
    data = {**_template_data("Aaa imported"), "slug": "imported", "variables": VARIABLES}
    text = json.dumps([data])  # JSON is also YAML
    upload = SimpleUploadedFile(f"export.{fmt}", text.encode(), content_type="text/plain")

    response = editor.post(f"/w/{space.pk}/templates/import/", {"file": upload})

    assert response.status_code == 302
    assert PromptTemplate.objects.filter(workspace=space, slug="imported").exists()
    _assert_shown_as_text(owner.get(f"/w/{space.pk}/").content.decode())


def test_a_dict_valued_label_renders_as_escaped_text(space):
    """A dict stored as a label (before the schema) is dropped, never rendered as markup."""
    from prompts.actions import create_template

    data = {
        **_template_data("Dict label"),
        "variables": [{"name": "topic", "label": {"x": LABEL}, "help": {"y": HELP}}],
    }
    # Straight to the model: this test is about rendering, not about the schema's checks.
    plain = {**data, "user_prompt": "Write.", "variables": []}
    template = create_template(workspace=space, data=plain, user=None)
    version = template.current_version()
    version.variables = data["variables"]

    html = render_crispy_form(TemplateForm(version))

    assert "<span hx-post" not in html and "<meta http-equiv" not in html
    assert "Topic" in html and "&lt;span" not in html  # the name's own label, no payload
    assert not PLANTED & _attributes(html)


def test_no_template_marks_a_label_or_help_text_safe():
    """The project's templates and the crispy pack as Django resolves it (the project's
    overrides in templates/tailwind/ win over crispy-tailwind's own copies)."""
    import re
    from pathlib import Path

    import crispy_tailwind
    from django.conf import settings
    from django.template.loader import get_template

    pack = Path(crispy_tailwind.__file__).parent / "templates"
    names = [p.relative_to(pack).as_posix() for p in pack.rglob("*.html")]
    project = Path(settings.BASE_DIR) / "templates"
    names += [p.relative_to(project).as_posix() for p in project.rglob("*.html")]
    marked = re.compile(r"\{\{[^}]*(label|help_text|error)[^}]*\|\s*safe")
    assert "tailwind/field.html" in names and len(names) > 60

    for name in names:
        source = Path(get_template(name).origin.name).read_text("utf-8")
        assert not marked.search(source), f"{name} marks a label, help text or error safe"
    assert get_template("tailwind/field.html").origin.name.startswith(str(project))
