"""The ``knowledge`` variable type in the prompts core (schema, typed variables, messages,
the generate form): declared with tags, source titles and a passage count, one per version,
no input in the form, filled with the sources block at generation time."""

from __future__ import annotations

import json

import pytest

from prompts.actions import create_template
from prompts.forms import TemplateForm
from prompts.schema import variables_problems
from prompts.variables import Variable

KNOWLEDGE = {
    "name": "knowledge",
    "type": "knowledge",
    "label": "Sources",
    "tags": ["lumen"],
    "sources": [],
    "passages": 5,
}
TOPIC = {"name": "topic", "type": "text"}


def test_the_contracts_declaration_is_valid():
    assert variables_problems([TOPIC, KNOWLEDGE], "Write about {{ topic }}. {{ knowledge }}") == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**KNOWLEDGE, "passages": 0}, "passages must be at least 1"),
        ({**KNOWLEDGE, "passages": 21}, "passages must be at most 20"),
        ({**KNOWLEDGE, "tags": "lumen"}, "tags must be a list"),
        ({**TOPIC, "tags": ["lumen"]}, "tags is only for a knowledge variable"),
    ],
)
def test_bad_knowledge_options_are_named(entry, message):
    assert any(message in problem for problem in variables_problems([entry]))


def test_one_knowledge_variable_per_version():
    second = {**KNOWLEDGE, "name": "more"}
    problems = variables_problems([KNOWLEDGE, second])
    assert "A template may have one knowledge variable at most." in problems


def test_typed_variable_round_trip():
    (var,) = Variable.parse_all([KNOWLEDGE])
    assert var.is_knowledge and var.tags == ("lumen",) and var.passage_count() == 5
    assert Variable.parse_all([var.to_json()]) == [var]
    (bare,) = Variable.parse_all([{"name": "k", "type": "knowledge"}])
    assert bare.passage_count() == 5 and bare.to_json() == {
        "name": "k",
        "type": "knowledge",
        "required": True,
        "tags": [],
        "sources": [],
    }
    assert "tags" not in Variable.parse_all([TOPIC])[0].to_json()


def test_a_stored_bad_option_is_dropped_not_the_variable():
    (var,) = Variable.parse_all([{**TOPIC, "tags": ["x"], "passages": 3}])
    assert var.name == "topic" and var.tags == () and var.passages is None


@pytest.fixture
def version(db, workspace):
    def make(user_prompt: str, **knowledge):
        data = {
            "name": "Grounded",
            "purpose": "docs",
            "system_prompt": "You write docs.",
            "user_prompt": user_prompt,
            "variables": [TOPIC, {**KNOWLEDGE, **knowledge}],
        }
        return create_template(workspace=workspace, data=data).current_version()

    return make


def test_the_block_fills_the_placeholder(version):
    v = version("Sources:\n{{ knowledge }}\nTopic: {{ topic }}")
    messages = v.build_messages({"topic": "lamps"}, knowledge="<sources>…</sources>")
    assert messages[-1]["content"] == "Sources:\n<sources>…</sources>\nTopic: lamps"
    assert v.build_messages({"topic": "lamps"})[-1]["content"] == "Sources:\n\nTopic: lamps"


def test_without_a_placeholder_the_block_ends_the_user_message(version):
    v = version("Topic: {{ topic }}")
    messages = v.build_messages({"topic": "lamps"}, knowledge="<sources>…</sources>")
    assert messages[-1]["content"] == "Topic: lamps\n\n<sources>…</sources>"
    assert v.build_messages({"topic": "lamps"})[-1]["content"] == "Topic: lamps"


def test_a_form_value_never_fills_the_knowledge_placeholder(version):
    v = version("{{ knowledge }}|{{ topic }}")
    messages = v.build_messages({"topic": "t", "knowledge": "typed by a user"})
    assert messages[-1]["content"] == "|t"


def test_the_form_has_no_input_for_it_and_says_what_it_draws_on(version):
    form = TemplateForm(version("{{ topic }}"), {"topic": "lamps"})
    assert list(form.fields) == ["topic"]
    assert form.is_valid(), form.errors
    assert form.grounding_note() == "Grounded in: lumen."
    every = TemplateForm(version("{{ topic }}", tags=[]))
    assert every.grounding_note() == "Grounded in: every source of this workspace."


@pytest.mark.django_db
def test_the_workspace_page_shows_the_note(client, user, workspace, version):
    v = version("{{ topic }}")
    client.force_login(user)
    html = client.get(workspace.get_absolute_url(), {"template": v.template_id}).content.decode()
    assert "data-grounding-note" in html and "Grounded in: lumen." in html
    assert 'name="knowledge"' not in html


def test_the_builder_offers_the_type_and_keeps_tags_in_the_json():
    from prompts.variable_builder import FORM, JSON, Builder

    assert ("knowledge", "Knowledge (sources)") in Builder().types()
    bare = Builder.from_json([{"name": "k", "type": "knowledge", "required": True}])
    assert bare.mode == FORM and bare.rows[0].type == "knowledge"
    assert variables_problems(bare.variables()) == []
    # Tags and titles have no inputs in a row: such a variable is edited as JSON, kept whole.
    tagged = Builder.from_json([KNOWLEDGE])
    assert tagged.mode == JSON and json.loads(tagged.json_text) == [KNOWLEDGE]
