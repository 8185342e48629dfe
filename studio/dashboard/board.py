"""A workspace at a glance: drafts by status, recent generations, daily token and cost use
(drawn as small server-side SVG bar charts), and the running experiments with their leaders.

Every read is one aggregate query, whatever the number of drafts, generations or experiments.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count
from django.urls import NoReverseMatch
from django.utils import timezone

from drafts.models import Draft, Generation
from prompts.experiments.models import Experiment, Vote
from prompts.experiments.stats import ALPHA, MIN_DECISIVE_VOTES, Comparison
from studio.audit.models import AuditLog, Usage
from studio.workspaces.models import Workspace

CHART_DAYS = 14
CHART_WIDTH = 280
CHART_HEIGHT = 72


@dataclass(frozen=True)
class Bar:
    day: datetime.date
    value: float
    label: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """Bars for the last ``CHART_DAYS`` days (days without use included, at zero)."""

    bars: list[Bar]
    total: float
    peak: float
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


@dataclass(frozen=True)
class Standing:
    name: str
    wins: int


@dataclass(frozen=True)
class ExperimentSummary:
    experiment: Experiment
    url: str
    standings: list[Standing]  # most wins first
    decisive: int

    @property
    def leader(self) -> Standing | None:
        if not self.standings or self.standings[0].wins == 0:
            return None
        if len(self.standings) > 1 and self.standings[1].wins == self.standings[0].wins:
            return None  # a tie leads nobody
        return self.standings[0]

    @property
    def share(self) -> int | None:
        leader = self.leader
        return round(100 * leader.wins / self.decisive) if leader and self.decisive else None

    @property
    def significant(self) -> bool:
        """Two variants, enough decisive votes, and an exact binomial test below ALPHA."""
        if len(self.standings) != 2 or self.decisive < MIN_DECISIVE_VOTES:
            return False
        a, b = self.standings
        p = Comparison(a.name, b.name, a.wins, b.wins).p_value
        return p is not None and p < ALPHA

    @property
    def needed(self) -> int:
        return max(0, MIN_DECISIVE_VOTES - self.decisive)


def drafts_by_status(space: Workspace) -> list[tuple[str, str, int]]:
    """(value, label, count) for every status, zero counts included, in the workflow's order."""
    counts = dict(
        Draft.objects.alive()
        .filter(workspace=space)
        .not_from_experiments()
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in Draft.Status.choices]


def recent_generations(space: Workspace, limit: int = 8) -> list[Generation]:
    return list(
        Generation.objects.filter(draft__workspace=space, draft__deleted_at=None)
        .filter(draft__in=Draft.objects.not_from_experiments())
        .select_related("draft", "created_by")
        .order_by("-created", "-pk")[:limit]
    )


def daily_use(space: Workspace, today: datetime.date | None = None) -> tuple[Chart, Chart]:
    """Tokens and cost (USD) per day over the last ``CHART_DAYS`` days, in one query: the
    workspace's billed calls, counted as every page counts usage (``AuditLog.usage``)."""
    today = today or timezone.localdate()
    first = today - datetime.timedelta(days=CHART_DAYS - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time()))
    by_day = AuditLog.objects.filter(workspace=space).since(start).usage_by_day()
    days = [first + datetime.timedelta(days=n) for n in range(CHART_DAYS)]
    zero = Usage(0, Decimal(0))
    tokens = [(day, float(by_day.get(day, zero).tokens)) for day in days]
    cost = [(day, float(by_day.get(day, zero).cost)) for day in days]
    return _chart(tokens, "{:,.0f}"), _chart(cost, "${:,.4f}")


def _chart(points: list[tuple[datetime.date, float]], fmt: str) -> Chart:
    peak = max((value for _, value in points), default=0.0)
    slot = CHART_WIDTH / len(points)
    bars = []
    for n, (day, value) in enumerate(points):
        # A day without use still shows a hairline, so the time axis reads as continuous.
        height = max(1.0, (CHART_HEIGHT - 4) * value / peak) if peak else 1.0
        bars.append(
            Bar(
                day=day,
                value=value,
                label=fmt.format(value),
                x=round(n * slot + 1, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(slot - 2, 2),
                height=round(height, 2),
            )
        )
    return Chart(bars=bars, total=sum(value for _, value in points), peak=peak)


def running_experiments(space: Workspace) -> list[ExperimentSummary]:
    """Running experiments with each variant's decisive wins, in three queries in all."""
    experiments = list(
        Experiment.objects.filter(workspace=space, status=Experiment.Status.RUNNING)
        .prefetch_related("variants")
        .order_by("-created", "-pk")
    )
    wins = {
        (experiment_id, winner_id): n
        for experiment_id, winner_id, n in Vote.objects.filter(
            experiment__in=experiments, choice=Vote.Choice.VARIANT
        )
        .order_by()
        .values("experiment_id", "winner_id")
        .annotate(n=Count("pk"))
        .values_list("experiment_id", "winner_id", "n")
    }
    summaries = []
    for experiment in experiments:
        variants = experiment.variants.all()  # prefetched
        standings = sorted(
            (Standing(v.name, wins.get((experiment.pk, v.pk), 0)) for v in variants),
            key=lambda s: -s.wins,
        )
        summaries.append(
            ExperimentSummary(
                experiment=experiment,
                url=_url_of(experiment),
                standings=standings,
                decisive=sum(s.wins for s in standings),
            )
        )
    return summaries


def _url_of(experiment: Experiment) -> str:
    """The experiment's page, where the prompts app has one."""
    try:
        return experiment.get_absolute_url()
    except NoReverseMatch:
        return ""
