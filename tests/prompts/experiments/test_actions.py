"""Experiments: variants, side-by-side runs linked to generations, blind votes, the winner."""

import pytest

from drafts.models import Generation
from prompts.actions import VERSIONED_FIELDS, duplicate_template, save_brand_voice, save_version
from prompts.experiments.actions import (
    InvalidExperiment,
    TooEarly,
    cast_vote,
    create_experiment,
    declare_winner,
    head_to_head,
    start_run,
)
from prompts.experiments.models import Vote
from studio.audit.origin import Origin


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
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)

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
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    left = run.columns.get(position=0).variant

    cast_vote(run=run, voter=user, choice="tie")
    vote = cast_vote(run=run, voter=user, choice="variant", winner=left, reason="clearer")

    assert Vote.objects.count() == 1
    assert vote.shown_order == [c.variant_id for c in run.columns.order_by("position")]
    with pytest.raises(InvalidExperiment):
        cast_vote(run=run, voter=user, choice="variant")
    with pytest.raises(InvalidExperiment):
        cast_vote(run=run, voter=user, choice="tie", winner=left)


def _votes(experiment, inputs, user, django_user_model, winners):
    """One run and one editor's vote per entry: a variant, or "tie" / "both_bad"."""
    for n, winner in enumerate(winners):
        voter = django_user_model.objects.create_user(f"editor{n}")
        run = start_run(origin=Origin(), experiment=experiment, inputs=inputs, user=user)
        if isinstance(winner, str):
            cast_vote(run=run, voter=voter, choice=winner)
        else:
            cast_vote(run=run, voter=voter, choice="variant", winner=winner)


def test_declaring_a_winner_with_overrides_bakes_them_into_a_new_version(
    experiment, product_inputs, user, django_user_model
):
    """Cool is v1 with temperature 0.2 and the House voice: production must get exactly that,
    not v1 (which would silently drop both)."""
    cool = experiment.variants.get(name="Cool")
    current = experiment.variants.get(name="Current")
    _votes(experiment, product_inputs, user, django_user_model, [cool] * 11 + [current])

    comparison = head_to_head(experiment)
    assert (comparison.a_wins, comparison.b_wins) == (1, 11)
    version = declare_winner(experiment=experiment, variant=cool, user=user)

    template = cool.version.template
    v1 = cool.version
    assert template.current_version() == version and version.number == 2
    assert (version.system_prompt, version.user_prompt) == (v1.system_prompt, v1.user_prompt)
    assert version.variables == v1.variables and version.model == v1.model
    assert version.temperature == 0.2 and version.thinking == v1.thinking
    # House's newest version won: the template includes the voice, unpinned.
    assert version.brand_voice.name == "House" and version.brand_voice_version is None
    assert version.build_messages(product_inputs) == cool.build_messages(product_inputs)
    assert version.generation_params() == cool.generation_params()
    assert "Cooler copy?" in version.note and "temperature 0.2" in version.note
    v1.refresh_from_db()  # the tested version itself is untouched
    assert v1.temperature == 1.3 and v1.brand_voice is None

    change = template.label_changes.get()
    assert (change.from_version, change.to_version) == (None, version)
    assert change.evidence["wins"] == 11 and change.evidence["appearances"] == 12
    assert change.evidence["decisive_votes"] == 12 and change.evidence["baked_from"] == 1
    assert change.evidence["p_value"] == pytest.approx(2 * 13 / 4096)
    assert change.evidence["summary"].startswith("Cool beats Current, 92% of 12 votes")
    assert change.evidence["too_early"] is False
    experiment.refresh_from_db()
    assert experiment.status == "stopped" and experiment.winner == cool
    assert experiment.promoted_version() == version
    with pytest.raises(InvalidExperiment, match="stopped"):
        start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)


def test_a_plain_winner_moves_production_to_its_own_version(
    experiment, product_inputs, user, django_user_model
):
    current = experiment.variants.get(name="Current")
    cool = experiment.variants.get(name="Cool")
    _votes(experiment, product_inputs, user, django_user_model, [current] * 10 + [cool])

    version = declare_winner(experiment=experiment, variant=current, user=user)

    template = current.version.template
    assert version == current.version and template.versions.count() == 1
    assert template.current_version() == current.version
    assert "baked_from" not in template.label_changes.get().evidence


def test_a_winner_tested_with_an_older_voice_version_pins_that_text(
    workspace, product_template, user, product_inputs
):
    own = duplicate_template(template=product_template, workspace=workspace, user=user)
    old = save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    save_brand_voice(workspace=workspace, name="House", text="Long and formal.", voice=old.voice)
    version = own.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Old voice?",
        user=user,
        variants=[
            {"name": "Plain", "version": version},
            {"name": "Old voice", "version": version, "brand_voice_version": old},
        ],
    )
    winner = experiment.variants.get(name="Old voice")

    promoted = declare_winner(experiment=experiment, variant=winner, user=user, early_ok=True)

    assert promoted.brand_voice == old.voice and promoted.brand_voice_version == old
    assert promoted.brand_voice_text() == "Short and warm."
    assert "brand voice House v1" in promoted.note
    # Editing the prompts keeps the pinned text; the editor's "follow" box lets it go.
    data = {f: getattr(promoted, f) for f in VERSIONED_FIELDS} | {"user_prompt": "Shorter."}
    kept, _ = save_version(template=own, data=data, user=user, brand_voice=old.voice)
    assert kept.brand_voice_version == old
    data |= {"user_prompt": "Shorter still.", "follow_voice": True}
    followed, _ = save_version(template=own, data=data, user=user, brand_voice=old.voice)
    assert followed.brand_voice_version is None
    assert followed.brand_voice_text() == "Long and formal."


def test_a_temperature_a_thinking_version_ignores_is_no_override(workspace, user):
    from prompts.actions import create_template

    template = create_template(
        workspace=workspace,
        user=user,
        data={
            "name": "Reasoned",
            "purpose": "docs",
            "system_prompt": "Think.",
            "user_prompt": "About {{ topic }}.",
            "variables": [{"name": "topic"}],
            "thinking": True,
        },
    )
    version = template.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Thinking",
        user=user,
        variants=[
            {"name": "A", "version": version},
            {"name": "B", "version": version, "temperature": 0.2},
        ],
    )
    b = experiment.variants.get(name="B")
    assert b.overrides() == {}
    assert declare_winner(experiment=experiment, variant=b, user=user, early_ok=True) == version


def test_declaring_on_too_few_votes_needs_an_explicit_confirmation(
    experiment, product_inputs, user, django_user_model
):
    cool = experiment.variants.get(name="Cool")
    _votes(experiment, product_inputs, user, django_user_model, [cool] * 3 + ["tie"])

    with pytest.raises(TooEarly, match="Only 3 votes count so far"):
        declare_winner(experiment=experiment, variant=cool, user=user)

    template = cool.version.template
    experiment.refresh_from_db()
    assert experiment.is_running and experiment.winner is None
    assert not template.label_changes.exists() and template.versions.count() == 1
    declare_winner(experiment=experiment, variant=cool, user=user, early_ok=True)
    evidence = template.label_changes.get().evidence
    assert evidence["too_early"] is True and evidence["wins"] == 3
    assert evidence["appearances"] == 4  # shown in the tie too: the results page's count


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
    from prompts.experiments.actions import stop

    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    stop(experiment=experiment)
    run.refresh_from_db()

    with pytest.raises(InvalidExperiment, match="votes are closed"):
        cast_vote(run=run, voter=user, choice="tie")
    assert not Vote.objects.exists()


def test_experiment_columns_never_reuse_a_cached_answer(workspace, product_template, user):
    """Each column's time to first token and cost are evidence: a temperature-0 variant
    still asks DeepSeek every time."""
    own = duplicate_template(template=product_template, workspace=workspace, user=user)
    version = own.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Exact copy?",
        user=user,
        variants=[
            {"name": "Exact", "version": version, "temperature": 0},
            {"name": "Loose", "version": version},
        ],
    )
    inputs = {"product_name": "Lamp", "features": "Warm", "audience": "all", "tone": "friendly"}
    run = start_run(
        origin=Origin(),
        experiment=experiment,
        inputs=inputs | {"words": 80, "language": "English"},
        user=user,
    )

    params = [c.generation.params for c in run.columns.select_related("generation")]
    assert {p["temperature"] for p in params} == {0, 1.3}
    assert all("cache" not in p for p in params)
