"""Experiment statistics: win rates with Wilson intervals and an exact binomial test (SciPy).

Every sentence here is translated (named placeholders, ``ngettext`` for counts): call
``statement()`` while the reader's language is active, not at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CONFIDENCE = 0.95
ALPHA = 0.05
# Below this many decisive votes a result is not reported as a winner, whatever p says.
MIN_DECISIVE_VOTES = 10


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def percent(share: float) -> str:
    """A share as a whole percentage, "68%"."""
    return f"{round(100 * share)}%"


def format_p(p: float) -> str:
    """A p-value with two significant digits, "0.024"."""
    return f"{p:.2g}"


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval | None:
    """The Wilson score interval for a proportion (None without any trial)."""
    if trials == 0:
        return None
    # Imported when needed: SciPy is ~2 s of CPU for every process that loads the URLconf.
    from scipy.stats import binomtest

    ci = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(float(ci.low), float(ci.high))


def binomial_p(successes: int, trials: int) -> float | None:
    """Two-sided exact binomial test against an even split (None without any trial)."""
    if trials == 0:
        return None
    from scipy.stats import binomtest

    return float(binomtest(successes, trials, 0.5, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class VariantResult:
    name: str
    wins: int
    appearances: int
    interval: Interval | None

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.appearances if self.appearances else None


@dataclass(frozen=True)
class Comparison:
    """Two variants head to head on decisive votes (ties and "both bad" left out)."""

    a: str
    b: str
    a_wins: int
    b_wins: int

    @property
    def decisive(self) -> int:
        return self.a_wins + self.b_wins

    @property
    def p_value(self) -> float | None:
        return binomial_p(self.b_wins, self.decisive)

    def statement(self) -> str:
        """The result in plain words, e.g. "B beats A, 68% of 41 votes, p=0.02"."""
        if self.decisive < MIN_DECISIVE_VOTES:
            return _("Not enough votes yet to tell (%(n)s of %(needed)s needed).") % {
                "n": self.decisive,
                "needed": MIN_DECISIVE_VOTES,
            }
        p = self.p_value
        leader, trailer, wins = (
            (self.b, self.a, self.b_wins)
            if self.b_wins >= self.a_wins
            else (self.a, self.b, self.a_wins)
        )
        values = {
            "leader": leader,
            "trailer": trailer,
            "share": percent(wins / self.decisive),
            "n": self.decisive,
            "p": format_p(p) if p is not None else "–",
        }
        if p is not None and p < ALPHA:
            return (
                ngettext(
                    "%(leader)s beats %(trailer)s, %(share)s of %(n)s vote, p=%(p)s.",
                    "%(leader)s beats %(trailer)s, %(share)s of %(n)s votes, p=%(p)s.",
                    self.decisive,
                )
                % values
            )
        return (
            ngettext(
                "No clear winner yet: %(leader)s has %(share)s of %(n)s vote, p=%(p)s "
                "(a difference this size could be chance).",
                "No clear winner yet: %(leader)s has %(share)s of %(n)s votes, p=%(p)s "
                "(a difference this size could be chance).",
                self.decisive,
            )
            % values
        )


def variant_results(
    names: dict[int, str], votes: list[tuple[list[int], int | None]]
) -> list[VariantResult]:
    """Per variant: how often it won among the votes it was shown in, with a Wilson interval.

    ``votes`` are (shown variant ids, winner id or None for a tie / both bad).
    """
    wins = dict.fromkeys(names, 0)
    shown = dict.fromkeys(names, 0)
    for order, winner in votes:
        for variant_id in order:
            if variant_id in shown:
                shown[variant_id] += 1
        if winner in wins:
            wins[winner] += 1
    return [VariantResult(names[v], wins[v], shown[v], wilson(wins[v], shown[v])) for v in names]
