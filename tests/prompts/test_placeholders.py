import pytest

from prompts.placeholders import UnknownVariable, placeholders, render_prompt


def test_placeholders_are_replaced_by_plain_values():
    assert (
        render_prompt(
            "Write about {{ product }} for {{audience}}.",
            {"product": "  a lamp ", "audience": "designers"},
        )
        == "Write about a lamp for designers."
    )


def test_values_are_inserted_verbatim_not_evaluated():
    rendered = render_prompt("{{ a }}", {"a": "{{ b }} {% load x %} {{ settings.SECRET_KEY }}"})
    assert rendered == "{{ b }} {% load x %} {{ settings.SECRET_KEY }}"


def test_there_is_no_attribute_access_or_tag_syntax():
    text = "{{ user.password }} {% debug %} {{ settings.SECRET_KEY }}"
    assert placeholders(text) == set()
    assert render_prompt(text, {"user": "x"}) == text


def test_unknown_variables_are_an_error_not_an_empty_string():
    with pytest.raises(UnknownVariable):
        render_prompt("Hello {{ name }}", {})
