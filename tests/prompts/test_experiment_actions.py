"""Experiments: variants, side-by-side runs linked to generations, blind votes, the winner."""

import pytest

from drafts.models import Generation
from prompts.actions import duplicate_template, save_brand_voice
from prompts.experiment_actions import (
    InvalidExperiment,
    cast_vote,
    create_experiment,
    declare_winner,
    head_to_head,
    start_run,
)
from prompts.models import Vote


@pytest.fixture
def experiment(workspace, product_template, user):
    own = duplicate_template(template=product_template, workspace=workspace, user=user)
    voice = save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    version = own.current_version()
    return create_experiment(
        workspace=workspace,
        name="Cooler copy?",
        user=user,
        variants=[
            {"name": "Current", "version": version},
            {"name": "Cool", "version": version, "temperature": 0.2, "brand_voice_version": voice},
        ],
    )


def test_a_run_starts_one_generation_per_variant_with_its_overrides(
    experiment, product_inputs, user
):
    run = start_run(experiment=experiment, inputs=product_inputs, user=user)

    columns = list(run.columns.select_related("variant", "generation"))
    assert sorted(c.position for c in columns) == [0, 1]
    by_name = {c.variant.name: c.generation for c in columns}
    assert by_name["Cool"].params["temperature"] == 0.2
    assert by_name["Current"].params["temperature"] == 1.3
    assert by_name["Cool"].draft_id != by_name["Current"].draft_id
    assert all(g.status == Generation.Status.QUEUED for g in by_name.values())


def test_variants_must_fit_the_same_form(workspace, demo_templates, user):
    product, email = demo_templates[0].current_version(), demo_templates[1].current_version()
    with pytest.raises(InvalidExperiment, match="lacks"):
        create_experiment(
            workspace=workspace,
            name="x",
            user=user,
            variants=[{"name": "A", "version": product}, {"name": "B", "version": email}],
        )


def test_votes_record_the_shown_order_and_one_vote_per_editor(experiment, product_inputs, user):
    run = start_run(experiment=experiment, inputs=product_inputs, user=user)
    left = run.columns.get(position=0).variant

    cast_vote(run=run, voter=user, choice="tie")
    vote = cast_vote(run=run, voter=user, choice="variant", winner=left, reason="clearer")

    assert Vote.objects.count() == 1
    assert vote.shown_order == [c.variant_id for c in run.columns.order_by("position")]
    with pytest.raises(InvalidExperiment):
        cast_vote(run=run, voter=user, choice="variant")
    with pytest.raises(InvalidExperiment):
        cast_vote(run=run, voter=user, choice="tie", winner=left)


def test_declaring_a_winner_moves_production_with_the_evidence(
    experiment, product_inputs, user, django_user_model
):
    cool = experiment.variants.get(name="Cool")
    current = experiment.variants.get(name="Current")
    for n in range(12):
        voter = django_user_model.objects.create_user(f"editor{n}")
        run = start_run(experiment=experiment, inputs=product_inputs, user=user)
        cast_vote(run=run, voter=voter, choice="variant", winner=cool if n < 11 else current)

    comparison = head_to_head(experiment)
    assert (comparison.a_wins, comparison.b_wins) == (1, 11)
    declare_winner(experiment=experiment, variant=cool, user=user)

    template = cool.version.template
    change = template.label_changes.get()
    assert template.current_version() == cool.version
    assert change.evidence["wins"] == 11 and change.evidence["decisive_votes"] == 12
    assert change.evidence["p_value"] == pytest.approx(2 * 13 / 4096)
    assert change.evidence["summary"].startswith("Cool beats Current, 92% of 12 votes")
    experiment.refresh_from_db()
    assert experiment.status == "stopped" and experiment.winner == cool
    with pytest.raises(InvalidExperiment, match="stopped"):
        start_run(experiment=experiment, inputs=product_inputs, user=user)


def test_an_experiment_keeps_its_hypothesis(workspace, product_template, user):
    version = product_template.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Cooler?",
        hypothesis="A cooler temperature gives tighter copy",
        user=user,
        variants=[{"name": "A", "version": version}, {"name": "B", "version": version}],
    )
    assert experiment.hypothesis == "A cooler temperature gives tighter copy"


def test_a_stopped_experiment_takes_no_more_votes(experiment, product_inputs, user):
    from prompts.experiment_actions import stop

    run = start_run(experiment=experiment, inputs=product_inputs, user=user)
    stop(experiment=experiment)
    run.refresh_from_db()

    with pytest.raises(InvalidExperiment, match="votes are closed"):
        cast_vote(run=run, voter=user, choice="tie")
    assert not Vote.objects.exists()
