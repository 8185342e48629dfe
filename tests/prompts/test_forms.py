import pytest

from prompts.forms import TemplateForm, validate_variables


def test_form_fields_follow_the_variables(product_template):
    form = TemplateForm(product_template.current_version())
    assert list(form.fields) == [
        "product_name",
        "features",
        "audience",
        "tone",
        "words",
        "language",
    ]
    assert form.fields["words"].initial == 150
    assert "friendly" in dict(form.fields["tone"].choices)
    assert "简体中文" in dict(form.fields["language"].choices)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("product_name", "", "This field is required."),
        ("words", "5000", "less than or equal to 800"),
        ("tone", "sarcastic", "Select a valid choice."),
        ("product_name", "x" * 121, "at most 120 characters"),
    ],
)
def test_invalid_inputs_get_clear_errors(product_template, product_inputs, field, value, message):
    form = TemplateForm(product_template.current_version(), {**product_inputs, field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_valid_inputs_build_system_and_user_messages(product_template, product_inputs):
    version = product_template.current_version()
    form = TemplateForm(version, product_inputs)
    assert form.is_valid(), form.errors
    system, user = version.build_messages(form.cleaned_data)
    assert system["role"] == "system" and "Write in English." in system["content"]
    assert user["role"] == "user" and "Aurora desk lamp" in user["content"]
    assert "about 120 words" in user["content"]


def test_validate_variables_finds_undeclared_and_malformed_variables():
    problems = validate_variables(
        [{"name": "ok"}, {"name": "not valid"}, {"name": "c", "type": "choice"}],
        "{{ ok }} {{ missing }}",
    )
    assert any("'not valid'" in p for p in problems)
    assert any("needs choices" in p for p in problems)
    assert any("{{ missing }}" in p for p in problems)
    assert validate_variables([{"name": "ok"}], "{{ ok }}") == []


def test_a_prompt_over_the_model_context_is_refused_before_any_call(
    product_template, product_inputs, settings
):
    settings.DEEPSEEK_CONTEXT_TOKENS = 2300  # room for max_tokens (2048) and a short prompt
    version = product_template.current_version()
    assert TemplateForm(version, product_inputs).is_valid()

    form = TemplateForm(version, {**product_inputs, "features": "word " * 380})

    assert not form.is_valid()
    assert "exceeds the 2,300-token context" in " ".join(form.non_field_errors())


@pytest.fixture
def typed_template(workspace, user):
    """A template with an audience and a brand voice variable, and two voices to pick from."""
    from prompts.actions import create_template, save_brand_voice

    save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    voice = save_brand_voice(workspace=workspace, name="Formal", text="Old formal.").voice
    save_brand_voice(workspace=workspace, name="Formal", text="Formal, no jokes.", voice=voice)
    return create_template(
        workspace=workspace,
        user=user,
        data={
            "name": "Launch",
            "purpose": "copy",
            "system_prompt": "Style: {{ voice }}",
            "user_prompt": "Announce it to {{ readers }}.",
            "variables": [
                {"name": "readers", "type": "audience", "default": "developers"},
                {"name": "voice", "type": "brand_voice", "label": "Voice"},
            ],
        },
    )


def test_an_audience_is_free_text_with_accessible_suggestions(typed_template):
    form = TemplateForm(typed_template.current_version())

    html = str(form["readers"])
    assert 'list="id_readers-suggestions"' in html and 'value="developers"' in html
    assert '<datalist id="id_readers-suggestions">' in html
    assert '<option value="existing customers"></option>' in html
    custom = TemplateForm(
        typed_template.current_version(), {"readers": "cat owners", "voice": "House"}
    )
    assert custom.is_valid(), custom.errors
    assert custom.cleaned_data["readers"] == "cat owners"


def test_an_audience_with_its_own_choices_suggests_those():
    from prompts.forms import _field_for
    from prompts.variables import Variable

    field = _field_for(Variable(name="who", type="audience", choices=("CTOs",)), version=None)
    assert list(field.widget.suggestions) == ["CTOs"]


def test_a_brand_voice_variable_offers_the_workspaces_voices_and_renders_the_newest_text(
    typed_template, workspace, other_user
):
    version = typed_template.current_version()
    form = TemplateForm(version, {"readers": "designers", "voice": "Formal"})

    assert [c[0] for c in form.fields["voice"].choices] == ["Formal", "House"]
    assert form.is_valid(), form.errors
    system, user = version.build_messages(form.cleaned_data)
    assert system["content"] == "Style: Formal, no jokes."
    assert user["content"] == "Announce it to designers."
    # Another workspace's voice is not a choice, whatever its name.
    from prompts.actions import save_brand_voice
    from studio.workspaces.actions import create_workspace

    theirs = create_workspace(name="Theirs", owner=other_user)
    save_brand_voice(workspace=theirs, name="Secret", text="Their voice.")
    refused = TemplateForm(version, {"readers": "designers", "voice": "Secret"})
    assert not refused.is_valid() and "Select a valid choice" in str(refused.errors["voice"])


def test_a_brand_voice_variable_without_voices_says_so(workspace, user):
    from prompts.actions import create_template

    template = create_template(
        workspace=workspace,
        user=user,
        data={
            "name": "Voiced",
            "purpose": "copy",
            "system_prompt": "{{ voice }}",
            "user_prompt": "Go.",
            "variables": [{"name": "voice", "type": "brand_voice"}],
        },
    )
    form = TemplateForm(template.current_version(), {"voice": ""})

    assert not form.is_valid() and "This field is required." in form.errors["voice"]
    assert "this workspace has no brand voices yet" in str(form["voice"])


def test_a_library_template_offers_the_voices_of_the_workspace_it_is_used_in(db, workspace):
    from prompts.actions import import_template, save_brand_voice

    save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    template, _, _ = import_template(
        data={
            "slug": "voiced",
            "name": "Voiced",
            "purpose": "copy",
            "system_prompt": "{{ voice }}",
            "user_prompt": "Go.",
            "variables": [{"name": "voice", "type": "brand_voice", "required": False}],
        }
    )
    version = template.current_version()

    assert [c[0] for c in TemplateForm(version).fields["voice"].choices] == [""]
    form = TemplateForm(version, {"voice": "House"}, workspace=workspace)
    assert [c[0] for c in form.fields["voice"].choices] == ["", "House"]
    assert form.is_valid() and form.cleaned_data["voice"] == "Short and warm."


def test_choices_must_be_a_list_of_texts():
    problems = validate_variables([{"name": "who", "type": "audience", "choices": "CTOs"}], "")
    assert problems == ["Variable 'who': choices must be a list of texts."]


def test_the_follow_voice_box_escapes_the_voice_name():
    """The voice's name (user text) is escaped once, where the label is rendered."""
    from types import SimpleNamespace

    from crispy_forms.utils import render_crispy_form

    from prompts.forms import TemplateEditForm

    pinned = SimpleNamespace(voice=SimpleNamespace(name="<b>x</b>"), number=1)
    html = render_crispy_form(TemplateEditForm(initial={"pinned_voice": pinned}))

    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html and "&amp;lt;" not in html
    assert "follow_voice" not in TemplateEditForm().fields


def test_validate_variables_checks_each_options_type():
    """Through the schema: an option of the wrong type is a problem, not a later 500."""
    variables = [{"name": "x", "max_length": "abc"}, {"name": "n", "type": "number", "min": "a"}]
    assert validate_variables(variables, "{{ x }} {{ n }}") == [
        "Variable 'x': max_length must be a whole number.",
        "Variable 'n': min must be a whole number.",
    ]


def _input_classes(html: str, name: str) -> set[str]:
    """The class list of the ``<input name=...>`` in a page."""
    import re

    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return set(re.search(r'class="([^"]*)"', tag).group(1).split())


def test_the_audience_input_is_styled_like_any_text_input_on_both_forms(
    client, user, workspace, product_template
):
    """Issue 18 item 4: the audience field had no border, padding or background."""
    from django.conf import settings
    from django.urls import reverse

    from prompts.actions import duplicate_template
    from prompts.experiment_actions import create_experiment

    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    experiment = create_experiment(
        workspace=workspace,
        name="Audience",
        user=user,
        variants=[{"name": name, "version": template.current_version()} for name in ("A", "B")],
    )
    client.force_login(user)
    pages = [
        client.get(reverse("workspace", args=[workspace.pk]), {"template": template.pk}),
        client.get(reverse("prompts:experiment", args=[workspace.pk, experiment.pk])),
    ]
    for page in pages:
        html = page.content.decode()
        text, audience = _input_classes(html, "product_name"), _input_classes(html, "audience")
        assert {"bg-white", "border", "border-gray-300", "py-2", "px-4"} <= text
        assert audience - {"suggestionsinput"} == text - {"textinput"}
    # Dark mode restyles those same classes, so the audience input follows it too.
    css = (settings.BASE_DIR / "theme/static/css/studio.css").read_text()
    assert ".dark :is(input,select,textarea).bg-white{" in css
    assert ".dark .border-gray-300{" in css
