"""The editor's variables builder: rows <-> JSON, its buttons, and what it posts."""

import json

from prompts.variable_builder import FORM, JSON, Builder, Row

CHOICE = {
    "name": "tone",
    "type": "choice",
    "label": "Tone",
    "required": False,
    "choices": ["a", "b"],
}
NUMBER = {"name": "words", "type": "number", "required": True, "default": 50, "min": 10, "max": 90}


def _posted(rows: list[dict], **extra) -> dict[str, str]:
    data = {"variables_mode": FORM, "var-count": str(len(rows))}
    for i, row in enumerate(rows):
        data |= {f"var-{i}-{key}": value for key, value in row.items()}
    return data | extra


def test_stored_variables_become_rows_and_come_back_the_same():
    stored = [
        CHOICE,
        NUMBER,
        {"name": "body", "type": "textarea", "required": True, "max_length": 9},
    ]
    builder = Builder.from_json(stored)
    assert builder.mode == FORM and [row.name for row in builder.rows] == ["tone", "words", "body"]
    assert builder.rows[0].choices == "a\nb" and builder.rows[1].min == "10"
    assert builder.variables() == stored


def test_json_the_rows_cannot_show_stays_json():
    """An option the type has no input for (or an unknown key) would be lost: JSON view."""
    for stored in (
        [{"name": "x", "type": "text", "choices": ["a"]}],
        [{"name": "x", "colour": "red"}],
        [{"name": "x", "label": {"a": 1}}],
        {"not": "a list"},
    ):
        builder = Builder.from_json(stored)
        assert builder.mode == JSON and json.loads(builder.json_text) == stored


def test_posted_rows_are_the_stored_json_with_numbers_as_numbers():
    data = _posted(
        [
            {
                "name": " words ",
                "type": "number",
                "default": "50",
                "min": "10",
                "max": "x",
                "required": "on",
                "choices": "ignored",
            },
            {"name": "pick", "type": "choice", "choices": "one\n\n two \n", "label": "Pick"},
        ]
    )
    builder = Builder.from_data(data)
    assert builder.variables() == [
        {"name": "words", "type": "number", "required": True, "default": 50, "min": 10, "max": "x"},
        {
            "name": "pick",
            "type": "choice",
            "label": "Pick",
            "required": False,
            "choices": ["one", "two"],
        },
    ]


def test_the_buttons_add_move_and_remove_rows():
    rows = [{"name": "a", "required": "on"}, {"name": "b"}, {"name": "c"}]
    assert [r.name for r in Builder.from_data(_posted(rows, builder="add")).rows] == [
        "a",
        "b",
        "c",
        "",
    ]
    assert Builder.from_data(_posted(rows, builder="add")).focus == 3
    assert [r.name for r in Builder.from_data(_posted(rows, builder="up-2")).rows] == [
        "a",
        "c",
        "b",
    ]
    assert [r.name for r in Builder.from_data(_posted(rows, builder="down-0")).rows] == [
        "b",
        "a",
        "c",
    ]
    assert [r.name for r in Builder.from_data(_posted(rows, builder="remove-1")).rows] == ["a", "c"]
    for junk in ("remove-", "remove-9", "up-0", "down-2", "explode", "remove-x"):
        assert [r.name for r in Builder.from_data(_posted(rows, builder=junk)).rows] == [
            "a",
            "b",
            "c",
        ]


def test_switching_to_json_and_back_keeps_the_same_variables():
    data = _posted([{"name": "pick", "type": "choice", "choices": "x\ny"}], builder="json")
    as_json = Builder.from_data(data)
    assert as_json.mode == JSON
    assert json.loads(as_json.json_text) == [
        {"name": "pick", "type": "choice", "required": False, "choices": ["x", "y"]}
    ]
    edited = as_json.json_text.replace('"y"', '"z"')
    back = Builder.from_data({"variables_mode": JSON, "variables": edited, "builder": "form"})
    assert back.mode == FORM and back.rows == [
        Row(name="pick", type="choice", required=False, choices="x\nz")
    ]


def test_broken_json_is_not_turned_into_rows():
    builder = Builder.from_data({"variables_mode": JSON, "variables": "[{", "builder": "form"})
    assert builder.mode == JSON and builder.error and builder.json_text == "[{"


def test_a_post_without_a_mode_is_the_json_field():
    """Scripts and older pages post only ``variables``."""
    builder = Builder.from_data({"variables": "[]"})
    assert builder.mode == JSON and builder.action == ""
