"""Do reviewers agree, and does anyone vote by position? (statsmodels, SciPy)

Agreement is measured on the runs several people voted on: each vote is one label (the
winning variant, "tie" or "both bad"). Two reviewers: Cohen's kappa over the runs both voted
on. Three or more: Fleiss' kappa, which needs the same number of votes per run, over the runs
with the most common number of votes (m ≥ 2). Kappa is agreement beyond chance: 1 is perfect,
0 what chance alone gives, below 0 worse than chance.

The side-bias check counts, per reviewer, how often the winner was the left column, with an
exact binomial test against 1/columns (50% for two). It only means something when columns are
shuffled (blind review): otherwise the left column is always the same variant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .stats import ALPHA, format_p

# A reviewer needs this many decisive votes before their side bias is judged.
MIN_SIDE_VOTES = 8
# Agreement is reported from this many runs voted on by several people.
MIN_SHARED_RUNS = 5

COHEN, FLEISS = "cohen", "fleiss"


def _band(kappa: float) -> str:
    """Landis & Koch's (1977) usual words for kappa's ranges."""
    if kappa < 0:
        return _("worse than chance")
    if kappa <= 0.2:
        return _("slight")
    if kappa <= 0.4:
        return _("fair")
    if kappa <= 0.6:
        return _("moderate")
    if kappa <= 0.8:
        return _("substantial")
    return _("almost perfect")


@dataclass(frozen=True)
class Agreement:
    method: str  # COHEN or FLEISS
    kappa: float | None  # None: every vote had the same label, so chance explains it all
    runs: int  # runs the kappa was computed over
    reviewers: int  # distinct reviewers among those runs
    per_run: int  # votes per run used (2 for Cohen)

    @property
    def enough(self) -> bool:
        return self.runs >= MIN_SHARED_RUNS

    @property
    def method_name(self) -> str:
        return _("Cohen's kappa") if self.method == COHEN else _("Fleiss' kappa")

    def statement(self) -> str:
        """The agreement in plain words."""
        if not self.enough:
            return _(
                "Not enough shared runs yet to measure agreement (%(n)s of %(needed)s needed)."
            ) % {"n": self.runs, "needed": MIN_SHARED_RUNS}
        if self.kappa is None:
            return ngettext(
                "Every vote on the %(n)s shared run was the same, so agreement beyond chance "
                "cannot be measured.",
                "Every vote on the %(n)s shared runs was the same, so agreement beyond chance "
                "cannot be measured.",
                self.runs,
            ) % {"n": self.runs}
        return ngettext(
            "%(method)s is %(kappa)s over %(n)s run voted on by %(m)s reviewers: "
            "%(band)s agreement.",
            "%(method)s is %(kappa)s over %(n)s runs voted on by %(m)s reviewers each: "
            "%(band)s agreement.",
            self.runs,
        ) % {
            "method": self.method_name,
            "kappa": f"{self.kappa:.2f}",
            "n": self.runs,
            "m": self.per_run,
            "band": _band(self.kappa),
        }


def agreement(labels: Mapping[int, Mapping[int, str]]) -> Agreement | None:
    """Kappa over ``labels`` (run id → {reviewer id → label}); None unless two or more
    reviewers voted on at least one run together."""
    shared = {run: votes for run, votes in labels.items() if len(votes) >= 2}
    reviewers = {voter for votes in shared.values() for voter in votes}
    if len(reviewers) < 2:
        return None
    if len(reviewers) == 2:
        first, second = sorted(reviewers)
        pairs = [(votes[first], votes[second]) for votes in shared.values()]
        return Agreement(COHEN, _cohen(pairs), len(pairs), 2, 2)
    counts = Counter(len(votes) for votes in shared.values())
    per_run = max(counts, key=lambda m: (counts[m], m))
    rows = [list(votes.values()) for votes in shared.values() if len(votes) == per_run]
    used = {voter for votes in shared.values() if len(votes) == per_run for voter in votes}
    return Agreement(FLEISS, _fleiss(rows), len(rows), len(used), per_run)


def _categories(labels: Iterable[str]) -> dict[str, int]:
    return {label: i for i, label in enumerate(sorted(set(labels)))}


def _cohen(pairs: list[tuple[str, str]]) -> float | None:
    # Imported when needed: statsmodels brings pandas, a second of start-up for every process.
    from statsmodels.stats.inter_rater import cohens_kappa

    index = _categories(label for pair in pairs for label in pair)
    if len(index) < 2:
        return None
    table = np.zeros((len(index), len(index)))
    for a, b in pairs:
        table[index[a], index[b]] += 1
    return float(cohens_kappa(table, return_results=False))


def _fleiss(rows: list[list[str]]) -> float | None:
    from statsmodels.stats.inter_rater import fleiss_kappa

    index = _categories(label for row in rows for label in row)
    if len(index) < 2:
        return None
    table = np.zeros((len(rows), len(index)))
    for n, row in enumerate(rows):
        for label in row:
            table[n, index[label]] += 1
    return float(fleiss_kappa(table))


@dataclass(frozen=True)
class SideBias:
    reviewer: str
    left: int  # decisive votes whose winner was the left column
    votes: int  # decisive votes
    columns: int

    @property
    def expected(self) -> float:
        return 1 / self.columns

    @property
    def p_value(self) -> float:
        # Imported when needed: SciPy is ~2 s of CPU for every process that loads the URLconf.
        from scipy.stats import binomtest

        return float(binomtest(self.left, self.votes, self.expected).pvalue)

    @property
    def enough(self) -> bool:
        return self.votes >= MIN_SIDE_VOTES

    @property
    def flagged(self) -> bool:
        return self.enough and self.p_value < ALPHA

    def statement(self) -> str:
        """The check in plain words, a warning when the reviewer favours a side."""
        values = {
            "name": self.reviewer,
            "left": self.left,
            "n": self.votes,
            "p": format_p(self.p_value),
        }
        if self.flagged:
            return (
                ngettext(
                    "%(name)s picked the left column in %(left)s of %(n)s vote (p=%(p)s): "
                    "their votes may reflect position, not quality.",
                    "%(name)s picked the left column in %(left)s of %(n)s votes (p=%(p)s): "
                    "their votes may reflect position, not quality.",
                    self.votes,
                )
                % values
            )
        return (
            ngettext(
                "%(name)s picked the left column in %(left)s of %(n)s vote (p=%(p)s): "
                "no sign of a side preference.",
                "%(name)s picked the left column in %(left)s of %(n)s votes (p=%(p)s): "
                "no sign of a side preference.",
                self.votes,
            )
            % values
        )


def side_bias(
    votes: Iterable[tuple[int, list[int], int | None]], names: Mapping[int, str]
) -> list[SideBias]:
    """Per reviewer, from their decisive votes (reviewer id, shown order, winner id).

    Votes with a different number of columns than the most common one are left out, so a
    single expected share applies.
    """
    decisive = [(voter, order, winner) for voter, order, winner in votes if winner and order]
    if not decisive:
        return []
    columns = Counter(len(order) for _v, order, _w in decisive).most_common(1)[0][0]
    left: Counter[int] = Counter()
    total: Counter[int] = Counter()
    for voter, order, winner in decisive:
        if len(order) == columns:
            total[voter] += 1
            left[voter] += order[0] == winner
    return [
        SideBias(names.get(voter, str(voter)), left[voter], total[voter], columns)
        for voter in sorted(total, key=lambda v: (-total[v], names.get(v, "")))
    ]
