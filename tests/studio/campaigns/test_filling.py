"""A deliverable's inputs, filled from the brief by name, with its overrides on top."""

from __future__ import annotations

from studio.campaigns.filling import fill_inputs, from_brief

BRIEF = {
    "product": "Lumen lamp",
    "audience": "night readers",
    "offer": "20% off launch week",
    "key_message": "Warm light that lasts all night",
    "dates": "2027-03-01 – 2027-03-31",
    "notes": "",
}


def test_the_brief_fills_variables_by_name_and_alias():
    values = from_brief(BRIEF)
    assert values["product"] == values["product_name"] == "Lumen lamp"
    assert values["benefit"] == values["goal"] == "Warm light that lasts all night"
    assert "notes" not in values  # a blank field fills nothing


def test_only_the_templates_own_variables_are_filled():
    inputs = fill_inputs(["product_name", "offer", "tone"], brief=BRIEF)
    assert inputs == {"product_name": "Lumen lamp", "offer": "20% off launch week"}


def test_defaults_fill_what_nothing_else_does():
    inputs = fill_inputs(
        ["tone", "audience"], brief=BRIEF, defaults={"tone": "bold", "audience": "x"}
    )
    assert inputs == {"tone": "bold", "audience": "night readers"}


def test_the_deliverable_and_its_overrides_win():
    inputs = fill_inputs(
        ["product_name", "count", "max_chars", "tone"],
        brief=BRIEF,
        deliverable={"count": 10, "max_chars": 30, "product_name": "Lumen (deliverable)"},
        overrides={"product_name": "Lumen Mini", "tone": "", "unknown": "x"},
        defaults={"tone": "bold", "count": 8},
    )
    assert inputs == {"product_name": "Lumen Mini", "count": 10, "max_chars": 30, "tone": "bold"}


def test_a_picked_variable_takes_only_one_of_its_choices():
    choices = {"channel": ["Search", "Social"], "audience": ["night readers", "students"]}
    inputs = fill_inputs(
        ["channel", "audience"],
        brief=BRIEF,
        deliverable={"channel": "Google Ads headline"},
        defaults={"channel": "Search"},
        choices=choices,
    )
    assert inputs == {"channel": "Search", "audience": "night readers"}
    forced = fill_inputs(["channel"], brief=BRIEF, overrides={"channel": "Print"}, choices=choices)
    assert forced == {"channel": "Print"}  # an override is the editor's: the form judges it
