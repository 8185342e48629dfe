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
