"""Statistics against values computed by hand."""

import math

import pytest
from django.utils import translation

from prompts.experiments.stats import Comparison, binomial_p, variant_results, wilson

Z = 1.959963984540054  # the 97.5% normal quantile


def _wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return centre - half, centre + half


@pytest.mark.parametrize("k, n", [(7, 10), (0, 5), (28, 41), (50, 50)])
def test_wilson_interval_matches_the_formula(k, n):
    interval = wilson(k, n)
    low, high = _wilson_by_hand(k, n)
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)


def test_wilson_interval_for_seven_of_ten_is_the_textbook_value():
    interval = wilson(7, 10)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.3968, 0.8922)
    assert wilson(0, 0) is None


@pytest.mark.parametrize(
    "k, n, p",
    [
        (8, 10, 2 * (45 + 10 + 1) / 1024),  # 2 × P(X ≥ 8), X ~ Bin(10, ½)
        (9, 10, 2 * (10 + 1) / 1024),
        (5, 10, 1.0),
        (2, 10, 2 * (1 + 10 + 45) / 1024),
    ],
)
def test_exact_binomial_test_matches_hand_computed_values(k, n, p):
    assert binomial_p(k, n) == pytest.approx(p, rel=1e-12)


def test_statements_in_plain_words():
    assert Comparison("A", "B", 3, 4).statement().startswith("Not enough votes yet to tell")
    # 28 of 41 for B: p = 2 × P(X ≥ 28), X ~ Bin(41, ½)
    p = 2 * sum(math.comb(41, i) for i in range(28, 42)) / 2**41
    verdict = Comparison("A", "B", 13, 28)
    assert verdict.p_value == pytest.approx(p)
    assert verdict.statement() == f"B beats A, 68% of 41 votes, p={p:.2g}."
    assert Comparison("A", "B", 9, 6).statement().startswith("No clear winner yet: A has 60%")


def test_variant_results_count_wins_among_the_votes_a_variant_was_shown_in():
    votes = [([1, 2], 1), ([2, 1], 1), ([1, 2], None), ([2, 1], 2)]
    a, b = variant_results({1: "A", 2: "B"}, votes)
    assert (a.wins, a.appearances, a.win_rate) == (2, 4, 0.5)
    assert (b.wins, b.appearances) == (1, 4)
    assert a.interval.low == pytest.approx(_wilson_by_hand(2, 4)[0])


def test_statements_are_translated_into_chinese():
    """Named placeholders let the Chinese sentence reorder the numbers."""
    p = 2 * sum(math.comb(41, i) for i in range(28, 42)) / 2**41
    with translation.override("zh-hans"):
        verdict = Comparison("A", "B", 13, 28).statement()
        waiting = Comparison("A", "B", 3, 4).statement()
    assert verdict == f"B 胜过 A，在 41 票中占 68%，p={p:.2g}。"
    assert waiting == "票数还不足以判断（已有 7 票，需要 10 票）。"
