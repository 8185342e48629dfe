"""The evidence a declared winner leaves on its label change, and how the history reads it.

The numbers are the results page's own (:class:`prompts.experiments.results.Verdict`): the
winner's wins among the votes it was shown in, with the 95% Wilson interval; the exact binomial
test for two variants; the Bradley–Terry rank and bootstrap interval for three or more. The
comparison and the ranking are stored whole, so the history rebuilds their plain-words statements
with the same classes, in the reader's language, instead of showing a sentence frozen at
declaration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .models import Experiment, Variant
from .ranking import Ranked, Ranking
from .results import Verdict
from .stats import Comparison, Interval


def _interval(value: Any) -> Interval | None:
    """An interval stored as ``[low, high]`` (or as asdict's ``{"low", "high"}``)."""
    if isinstance(value, dict):
        return Interval(value["low"], value["high"])
    return Interval(*value) if value else None


def record(verdict: Verdict, *, experiment: Experiment, variant: Variant) -> dict[str, Any]:
    """The evidence for declaring ``variant`` the winner, as JSON for ``LabelChange``."""
    result = verdict.result_for(variant)
    interval = result.interval
    return {
        "experiment": experiment.pk,
        "experiment_name": experiment.name,
        "variant": variant.name,
        "variant_id": variant.pk,
        "votes": len(verdict.votes),
        "wins": result.wins,
        # The denominator of the win rate: the votes the winner was shown in (the results
        # page's definition), not every decisive vote of the experiment.
        "appearances": result.appearances,
        "decisive_votes": sum(1 for v in verdict.votes if v.choice == "variant"),
        "interval": [interval.low, interval.high] if interval else None,
        "p_value": verdict.comparison.p_value if verdict.comparison else None,
        "comparison": asdict(verdict.comparison) if verdict.comparison else None,
        "ranking": asdict(verdict.ranking) if verdict.ranking else None,
        "too_early": verdict.too_early,
        "summary": verdict.statement() or f"{variant.name} declared winner.",
    }


@dataclass(frozen=True)
class Evidence:
    """A label change's evidence, read back for the template's history."""

    experiment: int
    experiment_name: str
    variant: str
    wins: int | None
    total: int | None  # votes the winner was shown in
    interval: Interval | None
    p_value: float | None
    comparison: Comparison | None
    ranking: Ranking | None
    rank: int | None  # the winner's place in the ranking, 1 for first
    ranked: Ranked | None  # the winner's row of the ranking
    too_early: bool
    summary: str  # the statement as written when declared (older records have only this)
    drafts: int | None  # single variant: the winner's drafts, approved ones, share rewritten
    approved: int | None
    rewritten: float | None
    baked_from: int | None  # the variant's version, when its overrides made a new one

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> Evidence | None:
        """None for a label change without an experiment behind it."""
        if not data or "experiment" not in data:
            return None
        ranking = data.get("ranking")
        if ranking:
            rows = [Ranked(**(r | {"interval": _interval(r["interval"])})) for r in ranking["rows"]]
            ranking = Ranking(rows, ranking["votes"], ranking["resamples"])
        place = next(
            (
                (n, row)
                for n, row in enumerate(ranking.rows if ranking else [], start=1)
                if row.variant_id == data.get("variant_id")
            ),
            (None, None),
        )
        comparison = data.get("comparison")
        return cls(
            experiment=data["experiment"],
            experiment_name=data.get("experiment_name", ""),
            variant=data.get("variant", ""),
            wins=data.get("wins"),
            total=data.get("appearances", data.get("decisive_votes")),
            interval=_interval(data.get("interval")),
            p_value=data.get("p_value"),
            comparison=Comparison(**comparison) if comparison else None,
            ranking=ranking or None,
            rank=place[0],
            ranked=place[1],
            too_early=bool(data.get("too_early")),
            summary=data.get("summary", ""),
            drafts=data.get("drafts"),
            approved=data.get("approved"),
            rewritten=data.get("rewritten"),
            baked_from=data.get("baked_from"),
        )

    @property
    def statement(self) -> str:
        """The verdict in plain words, rebuilt from the stored numbers when they are there."""
        if self.comparison is not None:
            return self.comparison.statement()
        if self.ranking is not None:
            return self.ranking.statement()
        return self.summary

    @property
    def has_votes(self) -> bool:
        return self.total is not None and self.drafts is None
