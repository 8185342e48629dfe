"""Template variables as typed values: one parser over the schema, and back to JSON."""

import pytest

from prompts.variables import AUDIENCES, TONES, Variable, to_json


def test_parse_all_reads_every_option_as_an_attribute():
    (var,) = Variable.parse_all(
        [
            {
                "name": "length",
                "type": "number",
                "label": "Words",
                "help": "Roughly",
                "required": False,
                "default": 50,
                "min": 10,
                "max": 200,
            }
        ]
    )
    assert var == Variable(
        name="length",
        type="number",
        label="Words",
        help="Roughly",
        required=False,
        default=50,
        min=10,
        max=200,
    )
    assert var.field_label() == "Words" and var.has_default and not var.is_picked


def test_parse_all_is_tolerant_of_stored_bad_entries_through_the_schema():
    """The schema decides: a bad option is dropped, a nameless or repeated entry left out."""
    stored = [
        {"name": "who", "max_length": "abc"},
        {"name": "who", "type": "textarea"},
        {"label": "no name"},
        "not an object",
        {"name": "pick", "type": "choice", "choices": ["a", "b"]},
    ]
    who, pick = Variable.parse_all(stored)
    assert who == Variable(name="who") and who.text_length() == 300
    assert pick.choices == ("a", "b") and pick.is_picked and pick.options() == ("a", "b")
    assert Variable.parse_all("not a list") == [] and Variable.parse_all(None) == []


def test_to_json_round_trips_and_leaves_unset_options_out():
    stored = [
        {"name": "who", "type": "audience", "label": "Readers", "required": True},
        {"name": "pick", "type": "choice", "required": False, "choices": ["a", "b"]},
        {"name": "n", "type": "number", "required": True, "default": 3, "min": 1, "max": 5},
        {"name": "body", "type": "textarea", "help": "Say it", "required": True, "max_length": 9},
    ]
    parsed = Variable.parse_all(stored)
    assert to_json(parsed) == stored
    assert Variable.parse_all(to_json(parsed)) == parsed


@pytest.mark.parametrize(
    ("kind", "options"),
    [("tone", TONES), ("audience", AUDIENCES), ("text", ()), ("language", ("English", "简体中文"))],
)
def test_a_type_without_choices_offers_its_built_in_list(kind, options):
    assert Variable(name="x", type=kind).options() == options


def test_a_version_reads_its_variables_as_specs(product_template):
    version = product_template.current_version()
    names = ["product_name", "features", "audience", "tone", "words", "knowledge", "language"]
    assert [v.name for v in version.variable_specs] == names
    assert all(isinstance(v, Variable) for v in version.variable_specs)
