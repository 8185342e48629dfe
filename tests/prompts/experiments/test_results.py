"""The results page: Bradley–Terry ranking for three variants, reviewer agreement and side
bias, edits and approvals per variant, single-variant results, and a constant query count."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from drafts.actions import add_version, finish_generation
from drafts.models import Draft, Generation
from prompts.actions import duplicate_template
from prompts.experiments.actions import cast_vote, create_experiment, start_run
from prompts.experiments.models import Experiment, Vote
from studio.audit.origin import Origin


@pytest.fixture
def version(workspace, product_template, user):
    return duplicate_template(template=product_template, workspace=workspace, user=user)


def _experiment(workspace, version, user, *, names=("A", "B", "C"), **options):
    v = version.current_version()
    variants = [{"name": n, "version": v, "temperature": 0.1 * i} for i, n in enumerate(names)]
    return create_experiment(
        workspace=workspace, name="Three ways", user=user, variants=variants, **options
    )


def _finish(run, texts=None):
    """Every column done, with a generated version (and usage) like the runner leaves it."""
    for column in run.columns.order_by("position"):
        text = (texts or {}).get(column.variant.name, f"Copy from {column.variant.name}.")
        Generation.objects.filter(pk=column.generation_id).update(ttft_ms=400)
        finish_generation(
            generation_id=column.generation_id,
            status=Generation.Status.DONE,
            text=text,
            reasoning="",
            fields={"completion_tokens": 120, "cost": "0.000300"},
        )


def _reviewers(n):
    names = ["ana", "ben", "cy", "dee"][:n]
    return [get_user_model().objects.create_user(name, first_name=name.title()) for name in names]


def _vote_left(run, reviewer):
    left = run.columns.get(position=0).variant
    return cast_vote(run=run, voter=reviewer, choice=Vote.Choice.VARIANT, winner=left)


def _vote_for(run, reviewer, name):
    variant = run.experiment.variants.get(name=name)
    return cast_vote(run=run, voter=reviewer, choice=Vote.Choice.VARIANT, winner=variant)


def _url(experiment):
    return reverse("prompts:experiment_results", args=[experiment.workspace_id, experiment.pk])


def test_three_variants_and_three_reviewers_show_ranking_agreement_and_side_bias(
    client, user, workspace, version, product_inputs
):
    experiment = _experiment(workspace, version, user)
    ana, ben, cy = _reviewers(3)
    for _ in range(12):
        run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
        _finish(run)
        _vote_left(run, ana)  # Ana always picks the left column, whatever it holds
        _vote_for(run, ben, "A")
        _vote_for(run, cy, "A")
    client.force_login(user)

    response = client.get(_url(experiment))

    html = response.content.decode()
    assert response.status_code == 200
    ranking = response.context["ranking"]
    assert ranking.rows[0].name == "A" and ranking.votes == 36
    assert "data-ranking" in html and 'data-ranked="A"' in html and 'data-ranked="C"' in html
    assert ranking.statement() in html.replace("&#x27;", "'")
    agreement = response.context["reviewers"].agreement
    assert agreement.method == "fleiss" and agreement.runs == 12 and agreement.per_run == 3
    assert "data-agreement" in html and "Fleiss&#x27; kappa is" in html
    ana_check = next(c for c in response.context["reviewers"].side_bias if c.reviewer == "Ana")
    assert (ana_check.left, ana_check.votes, ana_check.columns) == (12, 12, 3)
    assert ana_check.flagged
    assert 'data-side-bias="Ana" data-flagged' in html
    assert "Ana picked the left column in 12 of 12 votes" in html


def test_two_variants_have_no_ranking_and_one_reviewer_gets_clear_empty_states(
    client, user, workspace, version, product_inputs
):
    experiment = _experiment(workspace, version, user, names=("A", "B"))
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    _finish(run)
    _vote_for(run, user, "A")
    client.force_login(user)

    html = client.get(_url(experiment)).content.decode()

    assert "data-ranking" not in html
    assert "Agreement between reviewers appears once two or more people vote" in html
    assert "Not enough votes yet to check whether anyone favours a side" in html


def test_a_non_blind_experiment_explains_why_there_is_no_side_check(
    client, user, workspace, version, product_inputs
):
    experiment = _experiment(workspace, version, user, blind=False)
    client.force_login(user)
    html = client.get(_url(experiment)).content.decode()
    assert "Blind review is off, so the columns are not shuffled" in html


def test_results_show_tokens_cost_first_token_length_and_how_much_editors_rewrote(
    client, user, workspace, version, product_inputs
):
    experiment = _experiment(workspace, version, user, names=("A", "B"))
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    _finish(run, {"A": "kitten", "B": "Kept as is."})
    a_draft = run.columns.get(variant__name="A").generation.draft
    add_version(draft_id=a_draft.pk, text="sitting", source="edited", author_id=user.pk)
    Draft.objects.filter(pk=a_draft.pk).update(status=Draft.Status.APPROVED)
    client.force_login(user)

    response = client.get(_url(experiment))

    rows = {row["variant"].name: row for row in response.context["rows"]}
    a, b = rows["A"]["rewrites"], rows["B"]["rewrites"]
    assert (a.drafts, a.edited, a.approved, a.distance) == (1, 1, 1, 3)
    assert a.rewritten == pytest.approx(3 / 7)
    assert (b.drafts, b.edited, b.approved, b.rewritten) == (1, 0, 0, 0)
    usage = rows["A"]["usage"]
    assert (usage["runs"], usage["ttft"], usage["tokens"], usage["length"]) == (1, 400, 120, 6)
    html = response.content.decode()
    assert 'data-rewrite="A"' in html and "43%" in html  # 3 of 7 characters rewritten
    assert "Speed, length and cost" in html and "$0.0003" in html


def test_single_variant_results_count_drafts_and_edits_instead_of_votes(
    client, user, workspace, version, product_inputs
):
    from prompts.experiments.actions import start_assigned_generation
    from prompts.experiments.assignment import subject_for

    experiment = _experiment(
        workspace, version, user, names=("A", "B"), mode=Experiment.Mode.SINGLE, blind=False
    )
    for _ in range(3):
        generation = start_assigned_generation(
            origin=Origin(),
            loop=None,
            workspace=workspace,
            version=version.current_version(),
            inputs=product_inputs,
            user=user,
            subject=subject_for(user),
        )
        finish_generation(
            generation_id=generation.pk, status="done", text="Draft.", reasoning="", fields={}
        )
    client.force_login(user)

    response = client.get(_url(experiment))

    html = response.content.decode()
    assert "data-single-variant" in html and "Verdict so far" not in html
    assert "Votes per variant" not in html and "data-ranking" not in html
    drafts = {r["variant"].name: r["rewrites"].drafts for r in response.context["rows"]}
    assert sorted(drafts.values()) == [0, 3]


def test_the_results_page_makes_the_same_number_of_queries_for_any_amount_of_data(
    client, user, workspace, version, product_inputs, django_assert_max_num_queries
):
    experiment = _experiment(workspace, version, user)
    ana, ben = _reviewers(2)
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    _finish(run)
    _vote_left(run, ana)
    client.force_login(user)
    with CaptureQueriesContext(connection) as small:
        client.get(_url(experiment))

    for _ in range(8):
        run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
        _finish(run)
        _vote_left(run, ana)
        _vote_for(run, ben, "B")
        draft = run.columns.first().generation.draft
        add_version(draft_id=draft.pk, text="Rewritten.", source="edited", author_id=user.pk)

    with django_assert_max_num_queries(len(small)):
        response = client.get(_url(experiment))
    assert response.context["reviewers"].agreement.runs == 8
