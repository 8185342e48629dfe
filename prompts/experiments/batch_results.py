"""Per-variant numbers for a batch (or a whole experiment): human votes and the judge's
scores side by side, kept apart: a judge score is never counted as a vote."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q

from .models import Batch, Experiment, JudgeScore, Vote


def variant_summary(experiment: Experiment, batch: Batch | None = None) -> list[dict[str, Any]]:
    """For each variant: outputs shown and won in human votes, and the judge's mean score."""
    votes = Vote.objects.filter(experiment=experiment)
    scores = JudgeScore.objects.filter(output__variant__experiment=experiment)
    if batch is not None:
        votes = votes.filter(run__batch_row__batch=batch)
        scores = scores.filter(batch=batch)
    ballots = list(votes.values_list("shown_order", "winner_id"))
    scored = Q(status=JudgeScore.Status.SCORED)
    judged = {
        row["output__variant"]: row
        for row in scores.values("output__variant").annotate(
            scored=Count("pk", filter=scored),
            mean=Avg("score", filter=scored),
            unreadable=Count("pk", filter=Q(status=JudgeScore.Status.UNPARSEABLE)),
            failed=Count("pk", filter=Q(status=JudgeScore.Status.FAILED)),
        )
    }
    return [
        {
            "variant": variant,
            "shown": sum(variant.pk in order for order, _w in ballots),
            "wins": sum(winner == variant.pk for _o, winner in ballots),
            "judge": judged.get(variant.pk),
        }
        for variant in experiment.variants.all()
    ]


def has_judge_scores(experiment: Experiment) -> bool:
    return JudgeScore.objects.filter(output__variant__experiment=experiment).exists()
