"""Batch writes: create from parsed rows, start and resume (enqueue), review votes, start
judging. The background work itself is ``batch_runner`` via ``tasks`` (this package); the
progress it records is ``batch_progress``."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from drafts.models import Generation
from studio.guardrails.prompt_checks import validate_text
from studio.observability import current_request_id

from .actions import InvalidExperiment, cast_vote
from .models import Batch, BatchRow, Experiment, ExperimentRun, Variant, VariantRun, Vote
from .tasks import judge_batch, run_batch

RUBRIC_MAX_CHARS = Batch._meta.get_field("rubric").max_length


@transaction.atomic
def create_batch(
    *,
    experiment: Experiment,
    name: str,
    rows: list[tuple[int, dict[str, Any]]],
    user,
    source_name: str = "",
) -> Batch:
    """A batch of ``(line, inputs)`` rows for ``experiment``, ready to run (nothing runs yet)."""
    if not experiment.is_running:
        raise InvalidExperiment(_("This experiment is stopped: start a new one to compare again."))
    if not rows:
        raise InvalidExperiment(_("A batch needs at least one row of inputs."))
    batch = Batch.objects.create(
        experiment=experiment,
        name=name[:120],
        source_name=source_name[:200],
        created_by=user,
        total=len(rows) * experiment.variants.count(),
    )
    BatchRow.objects.bulk_create(
        BatchRow(batch=batch, line=line, inputs=inputs) for line, inputs in rows
    )
    return batch


@transaction.atomic
def start_batch(*, batch: Batch, origin: dict[str, Any]) -> Batch:
    """Queue the batch for the worker (its rows still pending); enqueued once this commits.

    ``origin`` (``studio.audit.origin.Origin.as_dict()``) goes onto every output's generation,
    and from there onto its audit row.
    A failed batch can be started again: rows already done are kept.
    """
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (Batch.Status.READY, Batch.Status.FAILED):
        raise InvalidExperiment(_("This batch has already been started."))
    if not batch.experiment.is_running:
        raise InvalidExperiment(_("This experiment is stopped: start a new one to compare again."))
    _enqueue(batch, origin)
    return batch


@transaction.atomic
def resume_batch(*, batch: Batch, origin: dict[str, Any]) -> Batch:
    """Take over a stale batch (its worker died): enqueue it again for the rows not done.

    Outputs the dead worker left half-way (a queued or running generation with no text kept)
    go back to the queue; rows and outputs already finished stay as they are and are never
    generated twice. The progress is counted again from the finished rows, and the attempt is
    bumped so that the old task, should it come back, stops at its next row.
    """
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if not batch.is_stale:
        raise InvalidExperiment(
            _("This batch is still making progress: there is nothing to resume.")
        )
    if not batch.experiment.is_running:
        raise InvalidExperiment(_("This experiment is stopped: start a new one to compare again."))
    unfinished = batch.rows.filter(status=BatchRow.Status.PENDING, run__isnull=False)
    # Interrupted too: the sweeper (drafts.sweeper, with a shared cache) may have settled the
    # dead worker's generation as an orphan.
    left = (*Generation.ACTIVE, Generation.Status.INTERRUPTED)
    Generation.objects.filter(
        variant_run__run__batch_row__in=unfinished, status__in=left, version__isnull=True
    ).update(status=Generation.Status.QUEUED, text="", reasoning="", finished=None)
    batch.done_count, batch.failed_count = _finished_counts(batch)
    batch.error = ""
    batch.save(update_fields=["done_count", "failed_count", "error"])
    _enqueue(batch, origin)
    return batch


def _enqueue(batch: Batch, origin: dict[str, Any]) -> None:
    """Queue the batch's next attempt, carrying the request id for the worker's log lines."""
    batch.status, batch.origin, batch.error = Batch.Status.QUEUED, origin, ""
    batch.attempt += 1
    batch.progressed = timezone.now()
    batch.save(update_fields=["status", "origin", "error", "attempt", "progressed"])
    request_id = origin.get("request_id") or current_request_id()
    transaction.on_commit(
        partial(run_batch.enqueue, batch_id=batch.pk, attempt=batch.attempt, request_id=request_id)
    )


def _finished_counts(batch: Batch) -> tuple[int, int]:
    """(done, failed) outputs of the rows that finished: a row that failed before its run
    existed counts every variant as failed."""
    rows = batch.rows.exclude(status=BatchRow.Status.PENDING)
    outputs = VariantRun.objects.filter(run__batch_row__in=rows)
    done = outputs.filter(generation__status=Generation.Status.DONE).count()
    failed = outputs.count() - done
    failed += rows.filter(run__isnull=True).count() * batch.experiment.variants.count()
    return done, failed


@transaction.atomic
def cast_review_vote(
    *,
    run: ExperimentRun,
    pair: list[Variant],
    voter,
    choice: str,
    winner: Variant | None = None,
    reason: str = "",
) -> Vote:
    """A review-queue vote on two of the run's variants, in the order the voter saw them.

    With three or more variants the queue shows a pair: ``shown_order`` records those two
    (left, right), so statistics compare exactly what was compared.
    """
    ids = [v.pk for v in pair]
    columns = set(run.columns.values_list("variant_id", flat=True))
    if len(ids) != 2 or len(set(ids)) != 2 or not set(ids) <= columns:
        raise InvalidExperiment(_("That pair is not part of this run."))
    if winner is not None and winner.pk not in ids:
        raise InvalidExperiment(_("Pick one of the two outputs shown."))
    vote = cast_vote(run=run, voter=voter, choice=choice, winner=winner, reason=reason)
    vote.shown_order = ids
    vote.save(update_fields=["shown_order"])
    return vote


@transaction.atomic
def start_judging(*, batch: Batch, rubric: str) -> Batch:
    """Save the rubric and queue the judge over every finished output of the batch."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    rubric = rubric.strip()
    if not rubric:
        raise InvalidExperiment(_("Write a rubric first: what makes an output good?"))
    try:  # it is sent to DeepSeek with every output: the prompt checks apply
        validate_text(rubric, max_chars=RUBRIC_MAX_CHARS)
    except ValidationError as exc:
        raise InvalidExperiment(" ".join(exc.messages)) from exc
    if batch.is_judging:
        raise InvalidExperiment(_("The judge is already at work on this batch."))
    if batch.is_active:
        raise InvalidExperiment(_("Wait until the batch has finished, then judge it."))
    outputs = batch.outputs().filter(generation__status="done").count()
    if not outputs:
        raise InvalidExperiment(_("Nothing to judge yet: run the batch first."))
    batch.rubric, batch.judge_status = rubric, Batch.Status.QUEUED
    batch.judge_total, batch.judge_done = outputs, 0
    batch.save(update_fields=["rubric", "judge_status", "judge_total", "judge_done"])
    transaction.on_commit(
        partial(judge_batch.enqueue, batch_id=batch.pk, request_id=current_request_id())
    )
    return batch
