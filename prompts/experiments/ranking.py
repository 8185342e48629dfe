"""Bradley–Terry ranking of three or more variants, with bootstrap intervals (NumPy, SciPy).

Every vote is turned into pairwise outcomes: the winner beat each other variant shown beside
it; a tie counts half a win each way for every pair shown; "both bad" says nothing about order
and is left out. Each variant i gets a log-strength θᵢ with P(i beats j) = σ(θᵢ − θⱼ), fitted
by maximum likelihood under a weak normal prior on θ, so that a variant that won every vote
still gets a finite strength. The objective is smooth and convex with a k×k Hessian, so
Newton's method fits every bootstrap resample at once as one stack of matrices (``fit_many``):
~20× faster than a ``scipy.optimize.minimize`` per resample, which the tests keep as the
reference (docs/decisions/test-suite-speed.md). The page shows each variant's
*share* exp θᵢ / Σ exp θ: under the same model (Luce's choice axiom), the chance it would be
picked if every variant were shown at once. Intervals come from resampling the votes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from studio import degraded

from .stats import CONFIDENCE, MIN_DECISIVE_VOTES, Interval, percent

# Precision of the normal prior on log-strengths (sd ≈ 1.4): keeps unanimous wins finite
# while a few dozen votes outweigh it. 0 gives the plain maximum-likelihood fit.
PRIOR_PRECISION = 0.5
RESAMPLES = 200  # enough for stable 95% percentiles at a few variants, ~0.05 s uncached
SEED = 20261125
CACHE_SECONDS = 60 * 60

# A vote as the results page loads it: (variant ids left to right, winner id or None, choice).
VoteRow = tuple[Sequence[int], int | None, str]

__all__ = ["Ranked", "Ranking", "bootstrap", "fit", "fit_many", "pairwise_wins", "rank"]


def pairwise_wins(variant_ids: Sequence[int], votes: Sequence[VoteRow]) -> np.ndarray:
    """``W[i, j]``: how often variant i beat variant j (ties count ½ each way)."""
    return _contributions(variant_ids, votes).sum(axis=0)


def _contributions(variant_ids: Sequence[int], votes: Sequence[VoteRow]) -> np.ndarray:
    """One k×k win matrix per vote, so a bootstrap resample is a weighted sum of them."""
    index = {v: i for i, v in enumerate(variant_ids)}
    out = np.zeros((len(votes), len(index), len(index)))
    for n, (shown, winner, choice) in enumerate(votes):
        seen = [index[v] for v in shown if v in index]
        if choice == "variant" and winner in index:
            w = index[winner]
            for other in seen:
                if other != w:
                    out[n, w, other] += 1
        elif choice == "tie":
            for i in seen:
                for j in seen:
                    if i != j:
                        out[n, i, j] += 0.5
    return out


def fit(wins: np.ndarray, prior: float = PRIOR_PRECISION) -> np.ndarray:
    """Log-strengths θ (mean zero) maximising Σ W[i,j]·log σ(θᵢ−θⱼ) − prior/2·|θ|²."""
    return fit_many(wins, prior)


def fit_many(wins: np.ndarray, prior: float = PRIOR_PRECISION, *, steps: int = 100) -> np.ndarray:
    """:func:`fit` for a stack of win matrices (…, k, k) at once, by Newton's method."""
    # Imported when needed: SciPy is ~2 s of CPU for every process that loads the URLconf.
    from scipy.special import expit

    wins = np.asarray(wins, dtype=float)
    k = wins.shape[-1]
    pairs = wins + np.swapaxes(wins, -1, -2)  # comparisons of i and j, either way
    theta = np.zeros(wins.shape[:-1])
    for _step in range(steps):
        diff = theta[..., :, None] - theta[..., None, :]
        # d/dθᵢ of W[i,j]·log σ(θᵢ−θⱼ) is W[i,j]·σ(θⱼ−θᵢ), and the opposite for θⱼ.
        g = wins * expit(-diff)
        grad = -(g.sum(axis=-1) - g.sum(axis=-2)) + prior * theta
        curvature = pairs * expit(diff) * expit(-diff)
        hessian = np.eye(k) * (curvature.sum(axis=-1)[..., None] + prior) - curvature
        # The pseudo-inverse: without a prior, θ is defined up to a constant (a singular
        # Hessian). Each step is bounded: far from the optimum (a variant that won every vote)
        # a full Newton step overshoots, and the objective is convex, so bounded steps reach it.
        step = np.clip((np.linalg.pinv(hessian) @ grad[..., None])[..., 0], -1.0, 1.0)
        theta = theta - step
        if np.abs(step).max() < 1e-10:
            break
    return theta - theta.mean(axis=-1, keepdims=True)


def bootstrap(
    contributions: np.ndarray,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    prior: float = PRIOR_PRECISION,
) -> np.ndarray:
    """Shares refitted on ``resamples`` resamples of the votes (rows: resamples)."""
    from scipy.special import softmax

    rng = np.random.default_rng(seed)
    n = contributions.shape[0]
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _b in range(resamples)])
    return softmax(fit_many(np.tensordot(counts, contributions, axes=1), prior), axis=-1)


@dataclass(frozen=True)
class Ranked:
    variant_id: int
    name: str
    score: float  # log-strength, mean zero across the variants
    share: float  # chance of being picked if every variant were shown at once
    interval: Interval


@dataclass(frozen=True)
class Ranking:
    rows: list[Ranked]  # best first
    votes: int  # votes that say something about order (decisive votes and ties)
    resamples: int

    @property
    def enough(self) -> bool:
        return self.votes >= MIN_DECISIVE_VOTES

    def statement(self) -> str:
        """The ranking in plain words."""
        if not self.enough:
            return _("Not enough votes yet to rank the variants (%(n)s of %(needed)s needed).") % {
                "n": self.votes,
                "needed": MIN_DECISIVE_VOTES,
            }
        first, second = self.rows[0], self.rows[1]
        values = {
            "name": first.name,
            "share": percent(first.share),
            "low": percent(first.interval.low),
            "high": percent(first.interval.high),
        }
        if first.interval.low > second.interval.high:
            return (
                _(
                    "%(name)s ranks first: it would be picked %(share)s of the time if every "
                    "variant were shown at once (95%% interval %(low)s–%(high)s)."
                )
                % values
            )
        return (
            _(
                "No clear first place yet: %(name)s leads with %(share)s (95%% interval "
                "%(low)s–%(high)s), but the intervals overlap."
            )
            % values
        )


def _percentiles(shares: np.ndarray) -> list[Interval]:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(shares, [tail, 100 - tail], axis=0)
    return [Interval(float(lo), float(hi)) for lo, hi in zip(low, high, strict=True)]


def _compute(names: dict[int, str], votes: Sequence[VoteRow], resamples: int, seed: int) -> Ranking:
    from scipy.special import softmax

    ids = list(names)
    ordered = [vote for vote in votes if vote[2] in ("variant", "tie")]
    contributions = _contributions(ids, ordered)
    theta = fit(contributions.sum(axis=0))
    share = softmax(theta)
    if ordered:
        intervals = _percentiles(bootstrap(contributions, resamples=resamples, seed=seed))
    else:
        intervals = [Interval(float(s), float(s)) for s in share]
    rows = [
        Ranked(v, names[v], float(theta[i]), float(share[i]), intervals[i])
        for i, v in enumerate(ids)
    ]
    rows.sort(key=lambda r: r.score, reverse=True)
    return Ranking(rows, len(ordered), resamples)


def rank(
    names: dict[int, str],
    votes: Sequence[VoteRow],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Ranking | None:
    """The Bradley–Terry ranking of three or more variants (None for fewer).

    Cached on the exact votes, so the results page refits only when a vote changes.
    """
    if len(names) < 3:
        return None
    payload = json.dumps([sorted(names.items()), list(votes), resamples, seed], default=list)
    key = "prompts:ranking:" + hashlib.sha256(payload.encode()).hexdigest()
    # While the shared cache is down, this worker's memory stands in (studio.degraded).
    ranking = degraded.run(lambda cache: cache.get(key), what="ranking")
    if ranking is None:
        ranking = _compute(names, votes, resamples, seed)
        degraded.run(lambda cache: cache.set(key, ranking, CACHE_SECONDS), what="ranking")
    return ranking
