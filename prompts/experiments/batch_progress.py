"""The batch runner's writes: owning an attempt, starting and finishing rows, counting
outputs, judge scores and status. Started by ``batch_actions`` (via ``tasks``), run by
``batch_runner`` (all in ``prompts.experiments``); kept apart from the starting side so that
no file cycle (actions → tasks → runner → actions) exists."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from studio.audit.origin import Origin

from .actions import start_run
from .models import Batch, BatchRow, ExperimentRun, JudgeScore, VariantRun


def is_current(*, batch_id: int, attempt: int | None) -> bool:
    """Whether a task of ``attempt`` still owns the batch (None: a task queued before attempts
    were counted, which always does)."""
    if attempt is None:
        return True
    return Batch.objects.filter(pk=batch_id, attempt=attempt).exists()


def mark_started(*, batch_id: int, attempt: int | None = None) -> bool:
    """Running from now; False (and nothing changed) when a newer attempt owns the batch."""
    batches = Batch.objects.filter(pk=batch_id)
    if attempt is not None:
        batches = batches.filter(attempt=attempt)
    now = timezone.now()
    return bool(
        batches.update(status=Batch.Status.RUNNING, started=now, progressed=now, finished=None)
    )


def mark_finished(*, batch_id: int, error: str = "", attempt: int | None = None) -> None:
    status = Batch.Status.FAILED if error else Batch.Status.DONE
    batches = Batch.objects.filter(pk=batch_id)
    if attempt is not None:
        batches = batches.filter(attempt=attempt)
    batches.update(status=status, error=error[:2000], finished=timezone.now())


def start_row(*, row: BatchRow) -> ExperimentRun:
    """The row's side-by-side run (one queued generation per variant), linked to the row in
    the same transaction; the generations carry the origin of the request that started the
    batch. The batch runner runs them itself (nothing is launched)."""
    batch = row.batch
    return start_run(
        experiment=batch.experiment,
        inputs=row.inputs,
        user=batch.created_by,
        origin=Origin.from_dict(batch.origin),
        on_run=lambda run: BatchRow.objects.filter(pk=row.pk).update(run=run),
    )


def count_output(*, batch_id: int, failed: bool) -> None:
    """One more output processed (one SQL update, so concurrent outputs never lose a count)."""
    field = "failed_count" if failed else "done_count"
    Batch.objects.filter(pk=batch_id).update(**{field: F(field) + 1}, progressed=timezone.now())


def finish_row(*, row_id: int, errors: list[str]) -> None:
    status = BatchRow.Status.FAILED if errors else BatchRow.Status.DONE
    with transaction.atomic():
        BatchRow.objects.filter(pk=row_id).update(status=status, error="\n".join(errors)[:2000])
        Batch.objects.filter(rows=row_id).update(progressed=timezone.now())


def save_judge_score(
    *,
    batch: Batch,
    output: VariantRun,
    status: str,
    score: int | None,
    reason: str = "",
    raw: str = "",
    model: str = "",
    cost: Decimal | None = None,
) -> JudgeScore:
    """Record (or replace) the judge's score of one output, and count it in the progress."""
    with transaction.atomic():
        judged, _ = JudgeScore.objects.update_or_create(
            output=output,
            defaults={
                "batch": batch,
                "status": status,
                "score": score,
                "reason": reason[:500],
                "raw": raw[:4000],
                "rubric": batch.rubric,
                "model": model,
                "cost": cost,
            },
        )
        Batch.objects.filter(pk=batch.pk).update(judge_done=F("judge_done") + 1)
    return judged


def set_judge_status(*, batch_id: int, status: str) -> None:
    Batch.objects.filter(pk=batch_id).update(judge_status=status)
