"""Resuming a batch whose worker died: only a stale batch, only the rows not done, never an
output twice, the progress counted again; a superseded task stops."""

import json
from datetime import timedelta

import pytest
import respx
from asgiref.sync import async_to_sync
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from drafts.actions import finish_generation
from drafts.models import DraftVersion, Generation
from prompts.experiments import batch_runner
from prompts.experiments.actions import InvalidExperiment
from prompts.experiments.batch_actions import resume_batch, start_batch
from prompts.experiments.batch_progress import count_output, finish_row, start_row
from prompts.experiments.models import Batch, BatchRow
from tests.conftest import CHAT_URL, completion
from tests.prompts import batch_helpers
from tests.prompts.batch_helpers import make_batch, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
experiment = batch_helpers.experiment

THREE_ROWS = (
    b"product_name,features\nAurora lamp,Warm light\nBeacon torch,Bright\nComet kettle,Fast boil\n"
)
ORIGIN = {"ip": "203.0.113.9", "session": "5e55", "channel": "ui", "request_id": "resume-1"}


def _answer(request):
    prompt = json.loads(request.content)["messages"][-1]["content"]
    product = next(p for p in ("Aurora", "Beacon", "Comet") if p in prompt)
    return completion(f"{product}, described.")


def _done(generation_id: int, text: str) -> None:
    finish_generation(
        generation_id=generation_id, status="done", text=text, reasoning="", fields={}
    )


def crashed_batch(experiment, user, *, quiet_for: timedelta = timedelta(minutes=20)) -> Batch:
    """A batch whose worker died in the middle of its second row.

    Row 1 finished (both outputs). Row 2 has its run: one output generated and counted, the
    other still "running" when the worker died. Row 3 never started.
    """
    batch = make_batch(experiment, user, THREE_ROWS)
    first, second, _third = batch.rows.order_by("line")
    for column in start_row(row=first).columns.all():
        _done(column.generation_id, "Aurora, from before the crash.")
        count_output(batch_id=batch.pk, failed=False)
    finish_row(row_id=first.pk, errors=[])
    kept, stuck = start_row(row=second).columns.order_by("position")
    _done(kept.generation_id, "Beacon, from before the crash.")
    count_output(batch_id=batch.pk, failed=False)
    Generation.objects.filter(pk=stuck.generation_id).update(status=Generation.Status.RUNNING)
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING,
        attempt=1,
        started=timezone.now() - quiet_for - timedelta(minutes=5),
        progressed=timezone.now() - quiet_for,
    )
    batch.refresh_from_db()
    return batch


def test_a_running_batch_is_stale_after_the_configured_quiet_time(experiment, user, settings):
    settings.BATCH_STALE_AFTER = 120
    batch = crashed_batch(experiment, user, quiet_for=timedelta(seconds=100))
    assert batch.is_active and not batch.is_stale
    settings.BATCH_STALE_AFTER = 60
    assert batch.is_stale
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.DONE)
    batch.refresh_from_db()
    assert not batch.is_stale


def test_a_batch_still_making_progress_cannot_be_resumed(experiment, user):
    batch = crashed_batch(experiment, user, quiet_for=timedelta(seconds=5))
    with pytest.raises(InvalidExperiment, match="still making progress"):
        resume_batch(batch=batch, origin=ORIGIN)
    assert not DBTaskResult.objects.exists()


@respx.mock
def test_resume_generates_only_the_outputs_not_done_and_counts_right(experiment, user):
    route = respx.post(CHAT_URL).mock(side_effect=_answer)
    batch = crashed_batch(experiment, user)
    first, second, third = batch.rows.order_by("line")
    kept, stuck = second.run.columns.order_by("position")
    before = {
        c.generation_id: c.generation.text for c in first.run.columns.select_related("generation")
    }

    resume_batch(batch=batch, origin=ORIGIN)

    batch.refresh_from_db()
    assert (batch.status, batch.attempt) == (Batch.Status.QUEUED, 2)
    # Counted again from the finished rows: row 2's early count is the runner's to make.
    assert (batch.done_count, batch.failed_count) == (2, 0)
    stuck.generation.refresh_from_db()
    assert stuck.generation.status == Generation.Status.QUEUED
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["kwargs"] == {
        "batch_id": batch.pk,
        "attempt": 2,
        "request_id": "resume-1",
    }

    run_worker()

    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    assert (batch.done_count, batch.failed_count, batch.total) == (6, 0, 6)
    # One call for row 2's stuck output, two for row 3; none for anything already generated.
    prompts = [json.loads(c.request.content)["messages"][-1]["content"] for c in route.calls]
    assert route.call_count == 3
    assert sum("Beacon" in p for p in prompts) == 1 and sum("Comet" in p for p in prompts) == 2
    assert not any("Aurora" in p for p in prompts)
    assert {r.status for r in batch.rows.all()} == {BatchRow.Status.DONE}
    for row in (first, second):
        row.refresh_from_db()
        assert row.run_id is not None  # the same run, not a second one
    assert batch.runs().count() == 3
    generations = Generation.objects.filter(variant_run__run__batch_row__batch=batch)
    assert generations.count() == 6
    assert {g.status for g in generations} == {Generation.Status.DONE}
    for generation_id, text in before.items():
        assert Generation.objects.get(pk=generation_id).text == text
    kept.generation.refresh_from_db()
    assert kept.generation.text == "Beacon, from before the crash."
    assert Generation.objects.get(pk=stuck.generation_id).text == "Beacon, described."
    for generation in generations:
        assert DraftVersion.objects.filter(generation=generation).count() == 1


@respx.mock
def test_the_dead_workers_task_stops_once_a_resume_owns_the_batch(experiment, user):
    route = respx.post(CHAT_URL).mock(side_effect=_answer)
    batch = crashed_batch(experiment, user)
    resume_batch(batch=batch, origin=ORIGIN)

    result = async_to_sync(batch_runner.run_batch)(batch.pk, attempt=1)

    assert result == {"superseded": 1}
    assert route.call_count == 0
    batch.refresh_from_db()
    assert batch.status == Batch.Status.QUEUED and batch.attempt == 2


def test_a_first_start_is_attempt_one_and_carries_the_request_id(experiment, user):
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin=ORIGIN)
    batch.refresh_from_db()
    assert batch.attempt == 1 and batch.progressed is not None
    kwargs = DBTaskResult.objects.get().args_kwargs["kwargs"]
    assert kwargs == {"batch_id": batch.pk, "attempt": 1, "request_id": "resume-1"}
