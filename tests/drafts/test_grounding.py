"""Grounding at generation time (drafts/grounding.py): the filled inputs retrieve passages,
numbered in ranking order into the contract's <sources> block, fitted to the context, and
stored with the generation; none found, no block and a draft that says so."""

from __future__ import annotations

import pytest

from drafts.actions import finish_generation
from drafts.generate import start_follow_up
from drafts.grounding import INSTRUCTION, INSTRUCTION_ZH, Cited, is_chinese, sources_block
from drafts.models import Generation
from studio.audit.origin import Origin
from tests.drafts.grounding_helpers import LUMEN, ORBIT, add_text, grounded_template
from tests.generating import start_generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def knowledge(workspace, user):
    add_text(workspace, user, LUMEN, title="Lumen lamp product sheet", tags=["lumen"])
    add_text(workspace, user, ORBIT, title="Orbit sheet", tags=["orbit"])


def generate(workspace, user, template, topic: str) -> Generation:
    return start_generation(
        workspace=workspace, version=template.current_version(), inputs={"topic": topic}, user=user
    )


def test_block_format_is_the_contracts():
    cited = [
        Cited(
            number=1, source_title="Lumen lamp product sheet", version_number=2, text="A.", score=1
        ),
        Cited(
            number=2,
            source_title="Lumen lamp product sheet",
            version_number=2,
            text="B.",
            score=0.5,
        ),
    ]
    assert sources_block(cited) == (
        "<sources>\n[1] Lumen lamp product sheet (v2)\nA.\n\n"
        "[2] Lumen lamp product sheet (v2)\nB.\n</sources>\n" + INSTRUCTION
    )
    assert sources_block(cited, chinese=True).endswith("</sources>\n" + INSTRUCTION_ZH)


def test_chinese_requests_are_told_in_chinese():
    assert is_chinese("介绍 Lumen 台灯的调光")
    assert not is_chinese("Lumen battery life")


def test_passages_are_numbered_stored_and_appended_to_the_user_message(knowledge, workspace, user):
    template = grounded_template(workspace, tags=["lumen"])
    generation = generate(workspace, user, template, "battery life hours")

    rows = list(generation.grounding.all())
    assert [row.number for row in rows] == list(range(1, len(rows) + 1))
    assert rows and "Battery life is 40 hours" in rows[0].text
    assert generation.passages_given == len(rows)
    assert all(row.source_title == "Lumen lamp product sheet" for row in rows)  # tag scope
    first = rows[0]
    assert first.version_number == 1 and first.passage_id and first.source_version_id
    assert first.score > 0
    user_message = generation.messages[-1]["content"]
    assert user_message.startswith("Write about battery life hours.\n\n<sources>\n")
    assert f"[1] Lumen lamp product sheet (v1)\n{first.text}" in user_message
    assert user_message.endswith(INSTRUCTION)


def test_the_placeholder_places_the_block(knowledge, workspace, user):
    template = grounded_template(
        workspace, user_prompt="Sources first:\n{{ knowledge }}\n\nNow write about {{ topic }}."
    )
    generation = generate(workspace, user, template, "Orbit speaker Bluetooth")
    content = generation.messages[-1]["content"]
    assert content.startswith("Sources first:\n<sources>\n[1] Orbit sheet (v1)")
    assert content.endswith("Now write about Orbit speaker Bluetooth.")


def test_sources_by_title_and_passage_count(knowledge, workspace, user):
    template = grounded_template(workspace, sources=["orbit SHEET"], passages=1)
    generation = generate(workspace, user, template, "lamp speaker battery hours")
    (row,) = generation.grounding.all()
    assert row.source_title == "Orbit sheet"


def test_chinese_inputs_find_chinese_passages(knowledge, workspace, user):
    template = grounded_template(workspace)
    generation = generate(workspace, user, template, "台灯怎么调光")
    assert "无级调光" in generation.grounding.first().text
    assert generation.messages[-1]["content"].endswith(INSTRUCTION_ZH)


def test_no_matching_passages_generates_without_a_block(knowledge, workspace, user):
    template = grounded_template(workspace, tags=["lumen"])
    generation = generate(workspace, user, template, "quantum chromodynamics")
    assert generation.passages_given == 0
    assert not generation.grounding.exists()
    assert generation.messages[-1]["content"] == "Write about quantum chromodynamics."


def test_archived_and_other_workspaces_sources_are_not_drawn(knowledge, workspace, user):
    from studio.workspaces.actions import create_workspace

    elsewhere = create_workspace(name="Elsewhere", owner=user)
    add_text(elsewhere, user, "# Nebula\n\nThe Nebula projector.\n", title="Nebula", tags=[])
    template = grounded_template(workspace)
    assert generate(workspace, user, template, "Nebula projector").passages_given == 0


def test_lowest_ranked_passages_are_dropped_to_fit_the_context(
    knowledge, workspace, user, settings
):
    template = grounded_template(workspace, passages=5)
    version = template.current_version()
    full = generate(workspace, user, template, "Lumen lamp battery dims hours")
    assert full.passages_given >= 2
    # Room for the prompt and max_tokens, and the first passage only.
    from studio.deepseek.pricing import estimate_prompt_tokens

    one = estimate_prompt_tokens(
        version.build_messages(
            {"topic": "Lumen lamp battery dims hours"},
            knowledge=sources_block([Cited.from_row(full.grounding.first())]),
        )
    )
    settings.DEEPSEEK_CONTEXT_TOKENS = one + full.params["max_tokens"]
    fitted = generate(workspace, user, template, "Lumen lamp battery dims hours")
    assert fitted.passages_given == 1
    assert fitted.grounding.get().passage_id == full.grounding.first().passage_id
    assert "[2]" not in fitted.messages[-1]["content"]


def test_follow_ups_keep_the_same_sources(knowledge, workspace, user):
    template = grounded_template(workspace)
    first = generate(workspace, user, template, "battery hours")
    finish_generation(
        generation_id=first.pk, status="done", text="Forty hours [1].", reasoning="", fields={}
    )
    again = start_follow_up(draft=first.draft, user=user, mode="regenerate", origin=Origin())
    assert again.messages == first.messages
    assert again.passages_given == first.passages_given
    assert [(r.number, r.passage_id) for r in again.grounding.all()] == [
        (r.number, r.passage_id) for r in first.grounding.all()
    ]


def test_ungrounded_templates_are_untouched(workspace, user, demo_templates):
    email = next(t for t in demo_templates if t.slug == "marketing-email")
    inputs = {"goal": "Launch", "offer": "10% off", "audience": "designers", "tone": "friendly"}
    inputs |= {"cta": "Shop now", "language": "English"}
    generation = start_generation(
        workspace=workspace, version=email.current_version(), inputs=inputs, user=user
    )
    assert generation.passages_given is None
    assert "<sources>" not in generation.messages[-1]["content"]


def test_the_workspace_generate_grounds_its_draft(client, launched, knowledge, workspace, user):
    from django.urls import reverse

    version = grounded_template(workspace, tags=["lumen"]).current_version()
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])
    response = client.post(url, {"version": version.pk, "topic": "battery hours"})
    assert response.status_code in (200, 302)
    generation = Generation.objects.get(pk=launched[0])
    assert generation.passages_given and "<sources>" in generation.messages[-1]["content"]


def test_every_variant_of_an_experiment_run_is_grounded(client, knowledge, workspace, user):
    from prompts.experiments.actions import create_experiment, start_run

    version = grounded_template(workspace, tags=["lumen"]).current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Grounded",
        user=user,
        variants=[{"name": "A", "version": version}, {"name": "B", "version": version}],
    )
    run = start_run(origin=Origin(), experiment=experiment, inputs={"topic": "battery"}, user=user)
    columns = list(run.columns.select_related("generation"))
    assert len(columns) == 2
    for column in columns:
        assert column.generation.passages_given
        assert column.generation.grounding.count() == column.generation.passages_given
        done = {"status": "done", "text": "40 h [1].", "reasoning": "", "fields": {}}
        finish_generation(generation_id=column.generation.pk, **done)
    client.force_login(user)
    html = client.get(run.get_absolute_url()).content.decode()
    for column in columns:  # each column's markers open its own passages
        assert f'popovertarget="cite-{column.generation.pk}-1"' in html
        assert f'id="cite-{column.generation.pk}-1"' in html


def test_a_passage_with_a_blocked_pattern_is_never_given(workspace, user):
    """The prompt checks hold for sources: a passage with a secret key is left out, the rest
    of the sources are still given."""
    secret = "# Keys\n\nThe battery key is sk-" + "a1" * 20 + " for the battery service.\n"
    add_text(workspace, user, secret, title="Leaked notes", tags=["lumen"])
    add_text(workspace, user, LUMEN, title="Lumen lamp product sheet", tags=["lumen"])
    template = grounded_template(workspace, tags=["lumen"])

    generation = generate(workspace, user, template, "battery key service hours")

    titles = {row.source_title for row in generation.grounding.all()}
    assert titles == {"Lumen lamp product sheet"}
    assert "sk-a1" not in generation.messages[-1]["content"]


def test_passages_are_dropped_to_keep_within_the_prompt_length_cap(
    knowledge, workspace, user, settings
):
    template = grounded_template(workspace, passages=5)
    full = generate(workspace, user, template, "Lumen lamp battery dims hours")
    assert full.passages_given >= 2
    settings.PROMPT_MAX_CHARS = sum(len(m["content"]) for m in full.messages) - 1

    fitted = generate(workspace, user, template, "Lumen lamp battery dims hours")

    assert 0 < fitted.passages_given < full.passages_given
    assert sum(len(m["content"]) for m in fitted.messages) <= settings.PROMPT_MAX_CHARS
