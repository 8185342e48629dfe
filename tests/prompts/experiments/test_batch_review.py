"""The review queue: blind pairs, least-voted runs first, never a run twice to the same
reviewer, spread across reviewers; three variants are shown two at a time."""

import pytest
from django.contrib.auth import get_user_model

from prompts.experiments import batch_review as review
from prompts.experiments.actions import InvalidExperiment, create_experiment
from prompts.experiments.batch_actions import cast_review_vote
from prompts.experiments.models import Vote
from tests.prompts import batch_helpers
from tests.prompts.batch_helpers import finished_batch

pytestmark = pytest.mark.django_db
experiment = batch_helpers.experiment


def _reviewer(name):
    return get_user_model().objects.create_user(name)


def _vote(pair, voter, choice="1"):
    winner = {"1": pair.left.variant, "2": pair.right.variant}.get(choice)
    return cast_review_vote(
        run=pair.run,
        pair=[pair.left.variant, pair.right.variant],
        voter=voter,
        choice=Vote.Choice.VARIANT if winner else choice,
        winner=winner,
    )


def test_least_voted_runs_come_first(experiment, user):
    batch = finished_batch(experiment, user)
    first, second, third = batch.runs().order_by("pk")
    for name, run in [("a", first), ("b", first), ("c", second)]:
        pair = review._pair(run, [c.variant_id for c in run.columns.all()])
        _vote(pair, _reviewer(name))

    pair = review.next_pair(batch, user)

    assert pair.run == third


def test_a_reviewer_never_sees_a_run_twice_and_then_the_queue_is_empty(experiment, user):
    batch = finished_batch(experiment, user)
    seen = []
    while (pair := review.next_pair(batch, user)) is not None:
        assert pair.run not in seen
        assert {pair.left.variant.name, pair.right.variant.name} == {"Plain", "Question"}
        seen.append(pair.run)
        vote = _vote(pair, user, choice="2")
        assert vote.shown_order == [pair.left.variant_id, pair.right.variant_id]
        assert vote.winner == pair.right.variant
        review.release(batch, user, pair.run)

    assert len(seen) == 3
    assert review.remaining(batch, user) == 0


def test_pairs_spread_across_two_reviewers(experiment, user):
    batch = finished_batch(experiment, user, products=2)
    hamlet, cordelia = user, _reviewer("cordelia")

    mine, theirs = review.next_pair(batch, hamlet), review.next_pair(batch, cordelia)
    # Handed out, not yet voted: the second reviewer gets the other run.
    assert mine.run != theirs.run
    # A reload shows the same pair, in the same order, until the vote.
    again = review.next_pair(batch, hamlet)
    assert (again.run, again.order) == (mine.run, mine.order)

    _vote(mine, hamlet)
    review.release(batch, hamlet, mine.run)
    _vote(theirs, cordelia)
    review.release(batch, cordelia, theirs.run)

    assert review.next_pair(batch, hamlet).run == theirs.run
    assert review.next_pair(batch, cordelia).run == mine.run


def test_left_and_right_are_shuffled(experiment, user):
    batch = finished_batch(experiment, user, products=1)
    orders = set()
    for _ in range(40):
        review.release(batch, user, batch.runs().get())
        orders.add(tuple(review.next_pair(batch, user).order))

    assert len(orders) == 2


def test_three_variants_are_shown_as_pairs_compared_evenly(workspace, product_template, user):
    version = product_template.current_version()
    three = create_experiment(
        workspace=workspace,
        name="Three",
        user=user,
        variants=[{"name": n, "version": version} for n in ("A", "B", "C")],
    )
    batch = finished_batch(three, user, products=3)
    reviewers = [_reviewer(f"r{i}") for i in range(3)]
    compared = []
    for reviewer in reviewers:
        pair = review.next_pair(batch, reviewer)
        compared.append(frozenset(v.name for v in (pair.left.variant, pair.right.variant)))
        _vote(pair, reviewer, choice="tie")

    # Each new pair is the one compared least so far: three reviewers, three different pairs.
    assert set(compared) == {frozenset("AB"), frozenset("AC"), frozenset("BC")}
    assert all(len(v.shown_order) == 2 for v in Vote.objects.all())


def test_a_vote_must_be_on_the_pair_shown(experiment, user, workspace, product_template):
    batch = finished_batch(experiment, user, products=1)
    pair = review.next_pair(batch, user)
    stranger = create_experiment(
        workspace=workspace,
        name="Other",
        user=user,
        variants=[{"name": n, "version": product_template.current_version()} for n in "XY"],
    ).variants.first()

    with pytest.raises(InvalidExperiment):
        cast_review_vote(run=pair.run, pair=[pair.left.variant, stranger], voter=user, choice="tie")
    with pytest.raises(InvalidExperiment):
        cast_review_vote(
            run=pair.run,
            pair=[pair.left.variant, pair.left.variant],
            voter=user,
            choice="variant",
            winner=pair.left.variant,
        )
    assert not Vote.objects.exists()
