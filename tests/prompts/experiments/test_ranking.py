"""Bradley–Terry ranking: pairwise outcomes from votes, the fit against hand-solved cases,
and reproducible bootstrap intervals."""

import numpy as np
import pytest
from django.core.cache import cache
from scipy.special import softmax

from prompts.experiments.ranking import (
    _contributions,
    bootstrap,
    fit,
    fit_many,
    pairwise_wins,
    rank,
)


def test_a_vote_is_a_win_over_every_other_shown_variant_and_a_tie_half_each_way():
    votes = [
        ([1, 2, 3], 2, "variant"),  # B beat A and C
        ([3, 1, 2], None, "tie"),  # half a win each way for every pair
        ([1, 2, 3], None, "both_bad"),  # says nothing about order
        ([1, 3], 3, "variant"),  # C beat A (B not shown)
    ]
    wins = pairwise_wins([1, 2, 3], votes)
    assert wins.tolist() == [
        [0.0, 0.5, 0.5],
        [1.5, 0.0, 1.5],
        [1.5, 0.5, 0.0],
    ]


def test_a_chain_of_two_pairs_is_solved_by_hand():
    """A beat B 2–1 and B beat C 2–1 (A and C never met): the maximum-likelihood strengths
    have πA/πB = 2 and πB/πC = 2, so the shares are 4/7, 2/7 and 1/7."""
    wins = np.array([[0, 2, 0], [1, 0, 2], [0, 1, 0]], dtype=float)
    theta = fit(wins, prior=0)
    assert softmax(theta) == pytest.approx([4 / 7, 2 / 7, 1 / 7], abs=1e-6)
    assert theta[0] - theta[1] == pytest.approx(np.log(2), abs=1e-6)
    assert theta.sum() == pytest.approx(0, abs=1e-9)


def _mm(wins: list[list[float]], rounds: int = 5000) -> list[float]:
    """Hunter's (2004) MM iteration, by hand: πᵢ ← Wᵢ / Σⱼ nᵢⱼ / (πᵢ + πⱼ), then normalise."""
    k = len(wins)
    pi = [1.0 / k] * k
    for _ in range(rounds):
        new = []
        for i in range(k):
            total_wins = sum(wins[i])
            denominator = sum(
                (wins[i][j] + wins[j][i]) / (pi[i] + pi[j]) for j in range(k) if j != i
            )
            new.append(total_wins / denominator)
        pi = [p / sum(new) for p in new]
    return pi


def test_a_round_robin_matches_the_mm_iteration():
    wins = [[0, 7, 9, 4], [3, 0, 6, 5], [1, 4, 0, 2], [6, 5, 8, 0]]
    theta = fit(np.array(wins, dtype=float), prior=0)
    assert softmax(theta) == pytest.approx(_mm(wins), abs=1e-6)


def test_the_prior_keeps_a_unanimous_winner_finite_and_shrinks_towards_equal():
    wins = np.array([[0, 5, 5], [0, 0, 0], [0, 0, 0]], dtype=float)
    shares = softmax(fit(wins))
    assert np.isfinite(shares).all()
    assert 0.5 < shares[0] < 0.99 and shares[1] == pytest.approx(shares[2])


def _votes(seed: int = 3, n: int = 60) -> list[tuple[list[int], int | None, str]]:
    rng = np.random.default_rng(seed)
    picks = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
    return [([1, 2, 3], int(p), "variant") for p in picks] + [([2, 1, 3], None, "tie")] * 4


def test_bootstrap_is_reproducible_with_the_seed_and_differs_without_it():
    contributions = _contributions([1, 2, 3], _votes())
    first = bootstrap(contributions, resamples=50, seed=7)
    again = bootstrap(contributions, resamples=50, seed=7)
    other = bootstrap(contributions, resamples=50, seed=8)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (50, 3) and first.sum(axis=1) == pytest.approx(np.ones(50))


def test_the_ranking_orders_variants_and_each_interval_contains_its_estimate():
    ranking = rank({1: "A", 2: "B", 3: "C"}, _votes(n=150))
    assert [r.name for r in ranking.rows] == ["A", "B", "C"]
    assert ranking.votes == 154 and ranking.enough
    for row in ranking.rows:
        assert row.interval.low <= row.share <= row.interval.high
    best = ranking.rows[0]
    assert ranking.statement().startswith(
        f"A ranks first: it would be picked {round(100 * best.share)}% of the time"
    )
    # The same votes give the same numbers (seeded), and the second call is the cached one.
    assert rank({1: "A", 2: "B", 3: "C"}, _votes(n=150)) == ranking
    cache.clear()
    assert rank({1: "A", 2: "B", 3: "C"}, _votes(n=150)) == ranking


def test_overlapping_intervals_call_no_first_place():
    votes = [([1, 2, 3], w, "variant") for w in [1, 2, 1, 3, 2, 1, 2, 1, 3, 2, 1, 1]]
    statement = rank({1: "A", 2: "B", 3: "C"}, votes).statement()
    assert statement.startswith("No clear first place yet: A leads with")
    assert statement.endswith("but the intervals overlap.")


def test_two_variants_have_no_ranking_and_few_votes_say_so():
    assert rank({1: "A", 2: "B"}, _votes()) is None
    few = rank({1: "A", 2: "B", 3: "C"}, [([1, 2, 3], 1, "variant")] * 3)
    assert not few.enough
    assert few.statement() == "Not enough votes yet to rank the variants (3 of 10 needed)."
    empty = rank({1: "A", 2: "B", 3: "C"}, [([1, 2, 3], None, "both_bad")])
    assert empty.votes == 0 and [r.share for r in empty.rows] == pytest.approx([1 / 3] * 3)


def test_the_newton_fit_matches_scipy_s_minimizer_and_fits_a_stack_at_once():
    """``fit_many`` (Newton's method on every resample at once) against SciPy's L-BFGS-B on
    the same objective, one matrix at a time: lopsided, unanimous, sparse and tied cases."""
    from scipy.optimize import minimize
    from scipy.special import log_expit

    def reference(wins: np.ndarray, prior: float = 0.5) -> np.ndarray:
        def objective(theta: np.ndarray) -> float:
            diff = theta[:, None] - theta[None, :]
            return -float((wins * log_expit(diff)).sum()) + 0.5 * prior * float(theta @ theta)

        x = minimize(objective, np.zeros(len(wins)), method="L-BFGS-B", tol=1e-14).x
        return x - x.mean()

    rng = np.random.default_rng(5)
    cases = [rng.integers(0, top, (k, k)).astype(float) for k in (3, 4, 6) for top in (2, 9, 300)]
    unanimous = np.zeros((4, 4))
    unanimous[0, 1:] = 120
    cases += [unanimous, np.full((3, 3), 0.5), np.zeros((3, 3))]
    for wins in cases:
        np.fill_diagonal(wins, 0)
        assert fit(wins) == pytest.approx(reference(wins), abs=1e-4)
    stack = np.stack([c for c in cases if c.shape == (3, 3)])
    assert fit_many(stack) == pytest.approx(np.stack([fit(w) for w in stack]), abs=1e-9)
