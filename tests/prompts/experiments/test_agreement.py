"""Reviewer agreement (Cohen's and Fleiss' kappa) and the side-bias check, against values
computed by hand."""

import pytest
from scipy.stats import binomtest

from prompts.experiments.agreement import COHEN, FLEISS, SideBias, agreement, side_bias


def _runs(*label_rows, voters=(1, 2, 3)):
    return {run: dict(zip(voters, row, strict=False)) for run, row in enumerate(label_rows)}


def test_cohens_kappa_for_two_reviewers_matches_the_hand_computation():
    """10 runs: observed agreement 7/10; marginals A 6/5, B 3/3, tie 1/2 give chance
    agreement (30 + 9 + 2)/100 = 0.41, so kappa = (0.7 − 0.41) / (1 − 0.41)."""
    pairs = [("A", "A")] * 4 + [("B", "B")] * 2 + [("A", "B"), ("B", "A")]
    pairs += [("tie", "tie"), ("A", "tie")]
    result = agreement(_runs(*pairs, voters=(1, 2)))
    assert (result.method, result.runs, result.reviewers) == (COHEN, 10, 2)
    assert result.kappa == pytest.approx((0.7 - 0.41) / 0.59)
    assert result.statement() == (
        "Cohen's kappa is 0.49 over 10 runs voted on by 2 reviewers each: moderate agreement."
    )


def test_fleiss_kappa_for_three_reviewers_matches_the_hand_computation():
    """5 runs × 3 votes. Per-run agreement 1, 1/3, 1, 1/3, 1 → mean 11/15; category shares
    A 9/15, B 6/15 → chance 0.36 + 0.16 = 0.52; kappa = (11/15 − 0.52) / 0.48 = 4/9."""
    rows = [("A", "A", "A"), ("A", "A", "B"), ("B", "B", "B"), ("A", "B", "B"), ("A", "A", "A")]
    result = agreement(_runs(*rows))
    assert (result.method, result.runs, result.reviewers, result.per_run) == (FLEISS, 5, 3, 3)
    assert result.kappa == pytest.approx(4 / 9)
    assert "Fleiss' kappa is 0.44 over 5 runs" in result.statement()


def test_fleiss_uses_the_runs_with_the_most_common_number_of_votes():
    rows = [("A", "A", "A")] * 3 + [("A", "B", "B")] * 2 + [("A", "B")] * 2
    result = agreement(_runs(*rows))
    assert (result.method, result.runs, result.per_run) == (FLEISS, 5, 3)


def test_no_agreement_without_two_people_on_one_run_and_identical_votes_say_so():
    assert agreement({1: {1: "A"}, 2: {2: "B"}}) is None
    assert agreement({}) is None
    same = agreement(_runs(*[("A", "A")] * 6, voters=(1, 2)))
    assert same.kappa is None
    assert same.statement().startswith("Every vote on the 6 shared runs was the same")
    few = agreement(_runs(("A", "B"), voters=(1, 2)))
    assert not few.enough
    assert few.statement().startswith("Not enough shared runs yet to measure agreement (1 of 5")


def test_side_bias_p_value_is_the_exact_binomial_test_and_the_warning_reads_plainly():
    """14 of 16 on the left: p = 2 × (1 + 16 + 120) / 2¹⁶ = 274/65536."""
    check = SideBias("Ana", 14, 16, 2)
    assert check.p_value == pytest.approx(274 / 65536)
    assert check.p_value == pytest.approx(binomtest(14, 16, 0.5).pvalue)
    assert check.flagged
    assert check.statement() == (
        "Ana picked the left column in 14 of 16 votes (p=0.0042): "
        "their votes may reflect position, not quality."
    )
    fair = SideBias("Ben", 9, 16, 2)
    assert not fair.flagged and fair.p_value == pytest.approx(binomtest(9, 16).pvalue)
    assert fair.statement().endswith("no sign of a side preference.")
    # With three columns the left one is expected a third of the time.
    three = SideBias("Cy", 6, 12, 3)
    assert three.p_value == pytest.approx(binomtest(6, 12, 1 / 3).pvalue)
    assert not SideBias("Dee", 4, 4, 2).flagged  # too few votes to judge


def test_side_bias_counts_each_reviewers_decisive_votes_on_the_left():
    votes = [(1, [10, 20], 10)] * 14 + [(1, [20, 10], 10)] * 2 + [(2, [10, 20], 20)] * 3
    votes += [(2, [10, 20], None)] * 5  # ties and "both bad" are not a side
    checks = side_bias(votes, {1: "Ana", 2: "Ben"})
    assert [(c.reviewer, c.left, c.votes, c.columns) for c in checks] == [
        ("Ana", 14, 16, 2),
        ("Ben", 0, 3, 2),
    ]
    assert side_bias([], {}) == []
