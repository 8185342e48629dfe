"""Import/export as JSON and YAML: round trips, commands, clear errors, all or nothing."""

import json
import tracemalloc
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from prompts.actions import InvalidTemplate, move_label, save_brand_voice, save_version
from prompts.models import PromptTemplate
from prompts.transfer import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    MAX_TEMPLATES,
    dumps,
    import_text,
    loads,
)
from studio.workspaces.actions import create_workspace
from tests.prompts.hostile_documents import billion_laughs, nested_json, nested_yaml

VERSIONED = ("system_prompt", "user_prompt", "variables", "model", "thinking", "temperature")


def _snapshot(template):
    version = template.current_version()
    return (
        template.slug,
        template.name,
        template.purpose,
        template.description,
        {f: getattr(version, f) for f in VERSIONED},
        version.max_tokens,
        sorted(template.labels.filter(version=version).values_list("name", flat=True)),
        version.brand_voice.name if version.brand_voice else None,
    )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_round_trip_into_another_workspace_keeps_everything(fmt, workspace, product_template, user):
    voice = save_brand_voice(workspace=workspace, name="House", text="Crisp.").voice
    first = product_template.current_version()
    data = {f: getattr(first, f) for f in VERSIONED} | {"max_tokens": 900}
    data["system_prompt"] += " 中文 {{ brand_voice }}"
    own = PromptTemplate.objects.create(workspace=workspace, slug="own", name="Own", purpose="copy")
    version, _ = save_version(template=own, data=data, brand_voice=voice, user=user)
    move_label(template=own, name="production", version=version, user=user)

    text = dumps([own], fmt)
    target = create_workspace(name="Other", owner=user)
    save_brand_voice(workspace=target, name="House", text="Their own words.")
    assert import_text(text, fmt, workspace=target)[:2] == (1, 1)

    copy = PromptTemplate.objects.get(workspace=target, slug="own")
    assert _snapshot(copy) == _snapshot(own)
    assert copy.current_version().brand_voice.workspace == target
    assert import_text(text, fmt, workspace=target)[:2] == (1, 0)  # idempotent


def test_library_export_is_what_the_demo_file_says(demo_templates):
    exported = loads(dumps(demo_templates, "json"))
    from prompts.management.commands.load_demo_templates import DEMO_FILE

    demo = loads(DEMO_FILE.read_text("utf-8"))
    assert [e["slug"] for e in exported] == [d["slug"] for d in demo]
    for e, d in zip(exported, demo, strict=True):
        assert {k: e[k] for k in d} == {
            k: (v if k != "temperature" else float(v)) for k, v in d.items()
        }


def test_commands_round_trip_through_a_yaml_file(tmp_path, demo_templates, workspace):
    path = tmp_path / "library.yaml"
    call_command("export_templates", output=str(path))
    assert path.read_text("utf-8").startswith("- slug: ad-headlines")

    call_command("import_templates", str(path), workspace=workspace.pk)
    imported = PromptTemplate.objects.filter(workspace=workspace).order_by("slug")
    assert [t.slug for t in imported] == sorted(t.slug for t in demo_templates)


@pytest.mark.parametrize(
    "text, fmt, message",
    [
        ("{not json", "json", "Not valid JSON"),
        ("- [unclosed", "yaml", "Not valid YAML"),
        ('"just a string"', "json", "Expected a list"),
        ('[{"slug": "x"}]', "json", "missing name, purpose"),
        (
            '[{"slug":"x","name":"X","purpose":"poetry","system_prompt":"","user_prompt":""}]',
            "json",
            "unknown purpose",
        ),
    ],
)
def test_bad_files_get_a_clear_error_and_import_nothing(db, text, fmt, message):
    with pytest.raises(InvalidTemplate, match=message):
        import_text(text, fmt)
    assert not PromptTemplate.objects.exists()


def test_one_bad_template_rolls_the_whole_file_back(demo_templates, workspace):
    items = loads(dumps(demo_templates))
    items[-1]["user_prompt"] = "{{ nowhere }}"
    import json

    with pytest.raises(InvalidTemplate, match="nowhere"):
        import_text(json.dumps(items), workspace=workspace)
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()


def test_import_command_reports_errors_as_command_errors(tmp_path, db):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]", "utf-8")
    with pytest.raises(CommandError, match="Expected a list"):
        call_command("import_templates", str(path))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_templates", str(tmp_path / "missing.json"))


def test_admin_action_exports_the_selected_templates(admin_client, demo_templates):
    from django.urls import reverse

    chosen = [t for t in demo_templates if t.slug in {"doc-section", "ad-headlines"}]
    response = admin_client.post(
        reverse("admin:prompts_prompttemplate_changelist"),
        {"action": "export_yaml", "_selected_action": [t.pk for t in chosen]},
    )
    assert response["Content-Type"] == "application/yaml"
    assert sorted(i["slug"] for i in loads(response.content.decode(), "yaml")) == [
        "ad-headlines",
        "doc-section",
    ]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_audience_variables_round_trip(fmt, workspace, user):
    variables = [
        {"name": "readers", "type": "audience", "choices": ["CTOs", "founders"]},
        {"name": "tone", "type": "tone", "required": False},
    ]
    data = {"system_prompt": "{{ tone }}", "user_prompt": "For {{ readers }}."}
    own = PromptTemplate.objects.create(workspace=workspace, slug="own", name="Own", purpose="copy")
    save_version(template=own, data=data | {"variables": variables}, user=user)

    target = create_workspace(name="Other", owner=user)
    assert import_text(dumps([own], fmt), fmt, workspace=target)[:2] == (1, 1)
    copy = PromptTemplate.objects.get(workspace=target, slug="own")
    assert copy.current_version().variables == variables


@pytest.mark.parametrize(
    "variable, message",
    [
        ({"name": "who", "type": "persona"}, "unknown type 'persona'"),
        ({"name": "who", "type": "brand_voice"}, "a brand voice is not a variable"),
        ({"name": "who", "type": "audience", "choices": "CTOs"}, "choices must be a list"),
    ],
)
def test_an_import_with_a_bad_variable_type_is_refused(db, variable, message):
    import json

    item = {"slug": "x", "name": "X", "purpose": "copy", "system_prompt": "{{ who }}"}
    item |= {"user_prompt": "Go.", "variables": [variable]}
    with pytest.raises(InvalidTemplate, match=message):
        import_text(json.dumps([item]))
    assert not PromptTemplate.objects.exists()


def test_billion_laughs_yaml_is_refused_before_anything_expands(db):
    """A 434-byte alias bomb (9⁹ strings once expanded) is refused by its first anchor."""
    tracemalloc.start()
    try:
        with pytest.raises(InvalidTemplate, match="Aliases and anchors are not supported"):
            import_text(billion_laughs(), "yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # a memory bound, far under the 300 MB the review asked
    assert not PromptTemplate.objects.exists()


@pytest.mark.parametrize(
    "text, fmt",
    [
        (nested_json(100_000), "json"),
        (nested_yaml(5_000), "yaml"),
        ("[" * 5_000, "yaml"),  # flow style, unclosed
        ('{"a": ' * 21 + "1" + "}" * 21, "json"),
    ],
)
def test_deeply_nested_documents_get_a_clear_error(db, text, fmt):
    with pytest.raises(InvalidTemplate, match=rf"Nested too deeply \(at most {MAX_DEPTH} levels\)"):
        import_text(text, fmt)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_depth_bound_is_the_same_in_json_and_yaml(fmt):
    """MAX_DEPTH lists one inside the other parse (and are no templates); one more does not."""
    with pytest.raises(InvalidTemplate, match="Expected a list of templates"):
        loads(nested_json(MAX_DEPTH - 1).replace("[]", '["x"]'), fmt)
    with pytest.raises(InvalidTemplate, match="Expected a list of templates"):
        loads(nested_json(MAX_DEPTH), fmt)
    with pytest.raises(InvalidTemplate, match="Nested too deeply"):
        loads(nested_json(MAX_DEPTH + 1), fmt)


def test_a_yaml_file_of_many_tiny_values_is_refused_by_count():
    """Size alone does not bound YAML's parse time: 2 MB of one-character values would."""
    text = "[" + ",".join(["1"] * (MAX_NODES + 1)) + "]"

    with pytest.raises(InvalidTemplate, match=f"Too many values \\(at most {MAX_NODES}\\)"):
        loads(text, "yaml")


def test_one_file_holds_at_most_max_templates(db):
    with pytest.raises(InvalidTemplate, match=f"Too many templates in one file .*{MAX_TEMPLATES}"):
        import_text(json.dumps([{}] * (MAX_TEMPLATES + 1)))


def test_brackets_inside_json_strings_are_text_not_depth():
    text = json.dumps([{"slug": "x", "name": "[[[[" * 50, "purpose": "copy"}])

    with pytest.raises(InvalidTemplate, match="missing system_prompt, user_prompt"):
        loads(text)


def test_an_export_fits_the_depth_bound(demo_templates):
    """Real exports (variables with choices) nest well inside MAX_DEPTH."""
    for fmt in ("json", "yaml"):
        assert [i["slug"] for i in loads(dumps(demo_templates, fmt), fmt)] == [
            t.slug for t in demo_templates
        ]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_file_over_the_size_cap_is_refused_unparsed(db, fmt):
    text = '"' + "x" * MAX_BYTES + '"'

    with pytest.raises(InvalidTemplate, match="The file is too large \\(at most 2048 KB\\)"):
        import_text(text, fmt)


def test_the_import_command_refuses_a_large_file_before_reading_it(tmp_path, db):
    path = tmp_path / "big.json"
    with path.open("wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: the size is all there is to see

    with pytest.raises(CommandError, match="The file is too large"):
        call_command("import_templates", str(path))


def edited_export(workspace, user) -> tuple[PromptTemplate, str]:
    """A template with production on v3, and an export of it whose prompt was edited and
    which names production and a new staging label."""
    own = PromptTemplate.objects.create(workspace=workspace, slug="own", name="Own", purpose="copy")
    for n in range(3):
        data = {"system_prompt": "Be brief.", "user_prompt": f"Write {n}."}
        version, _ = save_version(template=own, data=data, user=user)
    move_label(template=own, name="production", version=version, user=user)
    items = loads(dumps([own]))
    items[0]["user_prompt"] = "Write it better."
    items[0]["labels"] = ["production", "staging"]
    return own, json.dumps(items)


def test_a_reimport_leaves_production_where_it_is_and_says_so(workspace, user):
    """Issue 18 item 11: the edited export's import moved production silently."""
    own, text = edited_export(workspace, user)

    summary = import_text(text, workspace=workspace, user=user)

    assert own.labelled("production").number == 3  # what everyone generates with is unchanged
    assert own.labelled("staging").number == 4  # a new label moves nothing: it is added
    assert summary.message() == (
        "Imported 1 template (1 new version). Labels added: staging on v4. Labels not moved: "
        "production stays on v3 — tick “Move labels named in the file” to move them."
    )


def test_a_reimport_moves_labels_when_asked_and_says_so(workspace, user):
    own, text = edited_export(workspace, user)

    summary = import_text(text, workspace=workspace, user=user, move_labels=True)

    assert own.labelled("production").number == 4
    assert own.label_changes.filter(name="production").latest("pk").note == "Import"
    assert summary.message() == (
        "Imported 1 template (1 new version). Labels added: staging on v4. "
        "Labels moved: production moved v3 → v4."
    )
    assert "Labels" not in import_text(text, workspace=workspace, move_labels=True).message()


def test_the_import_command_moves_labels_only_with_move_labels(tmp_path, workspace, user):
    own, text = edited_export(workspace, user)
    path = tmp_path / "edited.json"
    path.write_text(text, "utf-8")
    out = StringIO()

    call_command("import_templates", str(path), workspace=workspace.pk, stdout=out)
    assert own.labelled("production").number == 3
    assert "production stays on v3" in out.getvalue()

    call_command("import_templates", str(path), "--move-labels", workspace=workspace.pk, stdout=out)
    assert own.labelled("production").number == 4
    assert "production moved v3 → v4" in out.getvalue()


def test_the_import_message_is_translated(workspace, user):
    from django.utils import translation

    _own, text = edited_export(workspace, user)
    summary = import_text(text, workspace=workspace, user=user)

    with translation.override("zh-hans"):
        message = summary.message()
    assert "production" in message and "Imported" not in message and "Labels" not in message
