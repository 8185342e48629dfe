"""The review queue: which blind pair a reviewer sees next.

A reviewer never gets a run they have voted on. Among the rest, the runs with the fewest votes
come first, so that several reviewers spread over the batch instead of piling onto the same
outputs; a run just handed to another reviewer (a claim in the shared cache, a few minutes)
comes after one nobody is looking at; ties are broken at random. With three or more variants a
run is shown as a pair of two: the pair compared least often in this batch so far. Left and
right are shuffled, and kept for a reload until the reviewer votes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from django.db.models import Count, Q

from drafts.models import Generation
from studio import degraded
from studio.http import request_number

from .models import Batch, ExperimentRun, VariantRun, Vote

CLAIM_TTL = 5 * 60
_random = random.SystemRandom()


@dataclass(frozen=True)
class Pair:
    run: ExperimentRun
    left: VariantRun
    right: VariantRun

    @property
    def order(self) -> list[int]:
        return [self.left.variant_id, self.right.variant_id]


def reviewable(batch: Batch):
    """The batch's runs with at least two finished outputs, annotated with their vote count."""
    done = Q(columns__generation__status=Generation.Status.DONE)
    return (
        batch.runs()
        .annotate(
            vote_count=Count("votes", distinct=True),
            ready=Count("columns", filter=done, distinct=True),
        )
        .filter(ready__gte=2)
    )


def remaining(batch: Batch, user) -> int:
    return reviewable(batch).exclude(votes__voter=user).count()


def _held_key(batch: Batch, user) -> str:
    return f"review:held:{batch.pk}:{user.pk}"


def _claim_key(run_id: int) -> str:
    return f"review:claim:{run_id}"


def next_pair(batch: Batch, user) -> Pair | None:
    """The pair ``user`` should review next in ``batch``, or None when none is left."""
    candidates = list(reviewable(batch).exclude(votes__voter=user))
    if not candidates:
        return None
    held = degraded.run(lambda cache: cache.get(_held_key(batch, user)), what="review")
    if held and (run := next((r for r in candidates if r.pk == held["run"]), None)):
        pair = _pair(run, held["order"])
        if pair is not None:
            return _hold(batch, user, pair)
    keys = [_claim_key(r.pk) for r in candidates]
    claims = degraded.run(lambda cache: cache.get_many(keys), what="review")

    def priority(run: ExperimentRun) -> tuple[int, bool, float]:
        claimed = claims.get(_claim_key(run.pk)) not in (None, user.pk)
        return (run.vote_count, claimed, _random.random())

    run = min(candidates, key=priority)
    return _hold(batch, user, _pick_pair(batch, run))


def _hold(batch: Batch, user, pair: Pair) -> Pair:
    def hold(cache) -> None:
        cache.set(_held_key(batch, user), {"run": pair.run.pk, "order": pair.order}, CLAIM_TTL)
        cache.set(_claim_key(pair.run.pk), user.pk, CLAIM_TTL)

    degraded.run(hold, what="review")  # claims per worker while the shared cache is down
    return pair


def release(batch: Batch, user, run: ExperimentRun) -> None:
    """The reviewer voted: their next request gets a new pair."""

    def forget(cache) -> None:
        cache.delete(_held_key(batch, user))
        if cache.get(_claim_key(run.pk)) == user.pk:
            cache.delete(_claim_key(run.pk))

    degraded.run(forget, what="review")


def _outputs(run: ExperimentRun) -> dict[int, VariantRun]:
    columns = run.columns.select_related("generation", "variant").filter(
        generation__status=Generation.Status.DONE
    )
    return {c.variant_id: c for c in columns}


def _pair(run: ExperimentRun, order: list[int]) -> Pair | None:
    outputs = _outputs(run)
    if len(order) != 2 or not set(order) <= set(outputs):
        return None
    return Pair(run, outputs[order[0]], outputs[order[1]])


def _pick_pair(batch: Batch, run: ExperimentRun) -> Pair:
    """Two of the run's finished outputs: the pair least compared in this batch, shuffled."""
    outputs = _outputs(run)
    compared = Counter(
        frozenset(order)
        for order in Vote.objects.filter(run__batch_row__batch=batch).values_list(
            "shown_order", flat=True
        )
        if len(order) == 2
    )
    pairs = list(combinations(sorted(outputs), 2))
    fewest = min(compared[frozenset(p)] for p in pairs)
    order = list(_random.choice([p for p in pairs if compared[frozenset(p)] == fewest]))
    _random.shuffle(order)
    return Pair(run, outputs[order[0]], outputs[order[1]])


def pair_from_post(batch: Batch, run_id: str, order: str) -> Pair | None:
    """The pair a vote form names (``run`` id, ``order`` "left,right" variant ids), checked
    against the batch; None when it does not fit."""
    ids = [request_number(i) for i in order.split(",")]
    if (pk := request_number(run_id)) is None or None in ids:
        return None
    run = batch.runs().filter(pk=pk).first()
    return _pair(run, ids) if run is not None else None
