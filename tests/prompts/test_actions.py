import json

import pytest

from prompts.actions import InvalidTemplate, import_template
from prompts.management.commands.load_demo_templates import DEMO_FILE


@pytest.fixture
def data():
    return json.loads(DEMO_FILE.read_text("utf-8"))[0]


def test_importing_the_same_template_twice_adds_no_version(db, data):
    template, created, _ = import_template(data=data)
    again, created_again, _ = import_template(data=data)
    assert (created, created_again) == (True, False)
    assert again.pk == template.pk and template.versions.count() == 1


def test_a_changed_prompt_becomes_a_new_immutable_version(db, data):
    data["labels"] = ["production"]
    template, _, imported = import_template(data=data)
    first = template.current_version()
    assert [(lab.name, lab.outcome, lab.imported) for lab in imported] == [
        ("production", "added", 1)
    ]

    changed = {**data, "user_prompt": data["user_prompt"] + " Be brief."}
    imported = import_template(data=changed)

    assert [v.number for v in template.versions.order_by("number")] == [1, 2]
    first.refresh_from_db()
    assert "Be brief." not in first.user_prompt  # the old version is untouched
    assert template.latest_version().user_prompt.endswith("Be brief.")
    # production was not asked to move: the workspace still generates with v1, and says so.
    assert template.current_version() == first
    assert [(lab.name, lab.outcome) for lab in imported.labels] == [("production", "kept")]
    import_template(data=changed, move_labels=True)
    assert template.current_version().user_prompt.endswith("Be brief.")


def test_a_template_using_an_undeclared_variable_is_refused(db, data):
    with pytest.raises(InvalidTemplate, match="missing"):
        import_template(data={**data, "user_prompt": "{{ missing }}"})


def test_demo_templates_load_with_the_command(db):
    from django.core.management import call_command

    from prompts.models import PromptTemplate

    call_command("load_demo_templates")
    call_command("load_demo_templates")
    assert PromptTemplate.objects.filter(workspace=None).count() == 8
    # The demo set speaks both languages: four English templates and four Chinese ones.
    chinese = PromptTemplate.objects.get(slug="product-description-zh").current_version()
    assert chinese.variables[0]["label"] == "产品名称" and "用{{ language }}写作" in (
        chinese.system_prompt
    )
    assert all(t.versions.count() == 1 for t in PromptTemplate.objects.all())


def test_duplicating_copies_the_current_version_into_the_workspace(db, data, user, workspace):
    from prompts.actions import duplicate_template

    library, _, _ = import_template(data=data)
    copy = duplicate_template(template=library, workspace=workspace, user=user)
    again = duplicate_template(template=library, workspace=workspace, user=user)

    assert (copy.workspace, copy.slug, again.slug) == (workspace, data["slug"], f"{data['slug']}-2")
    version = copy.current_version()
    assert version.number == 1 and version.user_prompt == data["user_prompt"]
    assert "Copied from" in version.note
    assert library.versions.count() == 1  # the original is untouched


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"max_tokens": 10**9}, "max_tokens must be at most 65536."),
        ({"temperature": "hot"}, "temperature must be a number."),
        ({"variables": [{"name": "words", "max_length": "abc"}]}, "max_length must be a whole"),
    ],
)
def test_save_version_refuses_what_the_schema_refuses_and_saves_nothing(db, data, changes, message):
    from prompts.actions import save_version

    template, _, _ = import_template(data=data)
    with pytest.raises(InvalidTemplate, match=message):
        save_version(template=template, data={**data, **changes})
    assert template.versions.count() == 1
