import pytest
from django.utils import translation

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


def test_a_prompt_over_the_model_context_is_refused_in_the_ui_language(
    product_template, product_inputs, settings
):
    """The client words ContextTooLong in English; the form shows it in Chinese."""
    settings.DEEPSEEK_CONTEXT_TOKENS = 2300
    form = TemplateForm(
        product_template.current_version(), {**product_inputs, "features": "w " * 380}
    )

    with translation.override("zh-hans"):
        shown = " ".join(form.non_field_errors())

    assert "2,300 token 上下文" in shown and "Shorten" not in shown


@pytest.fixture
def typed_template(workspace, user):
    """A template with an audience variable that includes the workspace's brand voice."""
    from prompts.actions import create_template, save_brand_voice

    voice = save_brand_voice(workspace=workspace, name="House", text="Short and warm.").voice
    return create_template(
        workspace=workspace,
        user=user,
        brand_voice=voice,
        data={
            "name": "Launch",
            "purpose": "copy",
            "system_prompt": "Style: {{ brand_voice }}",
            "user_prompt": "Announce it to {{ readers }}.",
            "variables": [{"name": "readers", "type": "audience", "default": "developers"}],
        },
    )


def test_an_audience_is_free_text_with_accessible_suggestions(typed_template):
    form = TemplateForm(typed_template.current_version())

    html = str(form["readers"])
    assert 'list="id_readers-suggestions"' in html and 'value="developers"' in html
    assert '<datalist id="id_readers-suggestions">' in html
    assert '<option value="existing customers"></option>' in html
    custom = TemplateForm(typed_template.current_version(), {"readers": "cat owners"})
    assert custom.is_valid(), custom.errors
    assert custom.cleaned_data == {"readers": "cat owners"}


def test_an_audience_with_its_own_choices_suggests_those():
    from prompts.forms import _field_for
    from prompts.variables import Variable

    field = _field_for(Variable(name="who", type="audience", choices=("CTOs",)))
    assert list(field.widget.suggestions) == ["CTOs"]


def test_the_brand_voice_is_the_templates_and_never_a_form_field(typed_template):
    """One way to set it: the template includes a voice; the generate form asks nothing."""
    version = typed_template.current_version()
    form = TemplateForm(version, {"readers": "designers", "brand_voice": "Something else"})

    assert list(form.fields) == ["readers"]
    assert form.is_valid(), form.errors
    system, user = version.build_messages(form.cleaned_data)
    assert system["content"] == "Style: Short and warm."
    assert user["content"] == "Announce it to designers."


def test_a_brand_voice_variable_is_refused_with_the_way_to_set_it():
    problems = validate_variables([{"name": "voice", "type": "brand_voice"}], "{{ voice }}")
    assert problems == [
        "Variable 'voice': a brand voice is not a variable. Write {{ brand_voice }} in the "
        "prompt and pick the template's brand voice."
    ]


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
    from prompts.experiments.actions import create_experiment

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
