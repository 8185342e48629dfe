"""What the experiment results page computes, in a fixed number of queries.

Each function reads with one or two queries whatever the number of votes or drafts, and hands
the numbers to the pure modules: ``stats`` (win rates), ``ranking`` (Bradley–Terry),
``agreement`` (kappa, side bias) and ``rewrites`` (edit distance, approvals).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Subquery

from drafts.models import Draft, DraftVersion

from .agreement import MIN_SIDE_VOTES, Agreement, SideBias, agreement, side_bias
from .edit_distance import EMPTY, Rewrites, summarise
from .models import Experiment, Variant, VariantRun, Vote
from .ranking import Ranking, rank
from .stats import MIN_DECISIVE_VOTES, Comparison, VariantResult, variant_results


@dataclass(frozen=True)
class VoteRow:
    shown: list[int]
    winner: int | None
    choice: str
    voter: int
    run: int | None


def vote_rows(experiment: Experiment) -> list[VoteRow]:
    """Every vote of the experiment, as plain values (one query)."""
    fields = ("shown_order", "winner_id", "choice", "voter_id", "run_id")
    return [VoteRow(*row) for row in experiment.votes.order_by("pk").values_list(*fields)]


def ranking(variants: list[Variant], votes: list[VoteRow]) -> Ranking | None:
    """The Bradley–Terry ranking when there are three or more variants."""
    return rank({v.pk: v.name for v in variants}, [(v.shown, v.winner, v.choice) for v in votes])


def comparison(variants: list[Variant], votes: list[VoteRow]) -> Comparison | None:
    """Exactly two variants head to head on the decisive votes (None for three or more)."""
    if len(variants) != 2:
        return None
    a, b = variants
    wins = Counter(v.winner for v in votes if v.choice == Vote.Choice.VARIANT)
    return Comparison(a.name, b.name, wins[a.pk], wins[b.pk])


@dataclass(frozen=True)
class Verdict:
    """What the votes say, as the results page shows it: each variant's wins among the votes
    it was shown in (with a 95% Wilson interval), the exact binomial test for two variants,
    the Bradley–Terry ranking for three or more. Declaring a winner records these same
    numbers (``evidence``), so the results page and the template's history agree."""

    variants: list[Variant]
    votes: list[VoteRow]
    results: list[VariantResult]  # one per variant, in the same order
    comparison: Comparison | None  # two variants
    ranking: Ranking | None  # three or more
    single: bool  # a single-variant experiment: no votes, nothing to call early

    @property
    def counted(self) -> int:
        """The votes a winner is called on: decisive votes (two variants), or the votes that
        say something about order (three or more)."""
        if self.comparison is not None:
            return self.comparison.decisive
        return self.ranking.votes if self.ranking is not None else 0

    @property
    def too_early(self) -> bool:
        """The results page's warning against stopping early: fewer votes than a winner is
        called on (``MIN_DECISIVE_VOTES``)."""
        return not self.single and self.counted < MIN_DECISIVE_VOTES

    def result_for(self, variant: Variant) -> VariantResult:
        return self.results[[v.pk for v in self.variants].index(variant.pk)]

    def statement(self) -> str:
        """The verdict in plain words, in the active language ('' for a single variant)."""
        if self.comparison is not None:
            return self.comparison.statement()
        return self.ranking.statement() if self.ranking is not None else ""


def verdict(experiment: Experiment, variants: list[Variant] | None = None) -> Verdict:
    """The experiment's :class:`Verdict` (two queries, and the cached ranking's fit)."""
    variants = list(experiment.variants.all()) if variants is None else variants
    votes = vote_rows(experiment)
    names = {v.pk: v.name for v in variants}
    results = variant_results(names, [(v.shown, v.winner) for v in votes])
    return Verdict(
        variants,
        votes,
        results,
        comparison(variants, votes),
        ranking(variants, votes),
        experiment.is_single_variant,
    )


def _label(vote: VoteRow) -> str:
    return f"variant:{vote.winner}" if vote.choice == "variant" else vote.choice


def _display_names(ids: set[int]) -> dict[int, str]:
    """Reviewers' full names where set, else usernames (one query)."""
    users = get_user_model().objects.filter(pk__in=ids)
    return {u.pk: u.get_full_name() or u.get_username() for u in users}


@dataclass(frozen=True)
class Reviewers:
    count: int  # people who voted
    agreement: Agreement | None  # None unless two people voted on a run together
    side_bias: list[SideBias] = field(default_factory=list)
    # Left/right only tells something when columns are shuffled (blind review).
    shuffled: bool = True

    @property
    def min_votes(self) -> int:
        return MIN_SIDE_VOTES

    @property
    def flagged(self) -> list[SideBias]:
        return [s for s in self.side_bias if s.flagged]

    @property
    def checked(self) -> list[SideBias]:
        return [s for s in self.side_bias if s.enough]


def reviewers(experiment: Experiment, votes: list[VoteRow]) -> Reviewers:
    """Agreement between reviewers and each reviewer's side bias (one query for names)."""
    voters = {v.voter for v in votes}
    by_run: dict[int, dict[int, str]] = defaultdict(dict)
    for vote in votes:
        if vote.run is not None:
            by_run[vote.run][vote.voter] = _label(vote)
    names = _display_names(voters) if voters else {}
    bias = side_bias(((v.voter, v.shown, v.winner) for v in votes), names)
    return Reviewers(len(voters), agreement(by_run), bias, experiment.blind)


def rewrites(experiment: Experiment) -> dict[int, Rewrites]:
    """Per variant id: how much editors rewrote its drafts, and how many they approved.

    One query: each finished column's generated version and its draft's latest version.
    """
    latest = DraftVersion.objects.filter(draft=OuterRef("generation__draft")).order_by("-number")
    rows = (
        VariantRun.objects.filter(variant__experiment=experiment, generation__version__isnull=False)
        .annotate(latest_text=Subquery(latest.values("text")[:1]))
        .values_list(
            "variant_id", "generation__version__text", "latest_text", "generation__draft__status"
        )
    )
    per_variant: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
    for variant_id, generated, latest_text, status in rows:
        per_variant[variant_id].append(
            (generated, latest_text or "", status == Draft.Status.APPROVED)
        )
    return defaultdict(lambda: EMPTY, {v: summarise(d) for v, d in per_variant.items()})


@dataclass(frozen=True)
class Share:
    """A variant's share of the generations assigned in a single-variant experiment."""

    variant: Variant
    count: int
    share: float | None  # of all assigned generations so far (None before the first)
    expected: float  # its weight's share

    @property
    def percent(self) -> int | None:
        return round(100 * self.share) if self.share is not None else None

    @property
    def expected_percent(self) -> int:
        return round(100 * self.expected)


def assigned_split(experiment: Experiment) -> list[Share]:
    """Per variant: how many generations were assigned to it so far, against its weight
    (one query; batch runs are not assignments and are left out)."""
    variants = list(experiment.variants.select_related("version"))
    counts = dict(
        VariantRun.objects.filter(variant__experiment=experiment, run__batch_row__isnull=True)
        .values("variant")
        .annotate(n=Count("pk"))
        .values_list("variant", "n")
    )
    total = sum(counts.values())
    weights = sum(v.weight for v in variants) or 1
    return [
        Share(
            v,
            counts.get(v.pk, 0),
            counts.get(v.pk, 0) / total if total else None,
            v.weight / weights,
        )  # fmt: skip
        for v in variants
    ]
