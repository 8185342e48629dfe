"""A batch runs in the background through the real django-tasks-db backend: enqueued on
commit, then run by ``manage.py db_worker``; every row × variant becomes a draft version
tagged with its variant, with usage, cost and an audit row; a failing row does not stop it."""

import json

import pytest
import respx
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from drafts.models import DraftVersion, Generation
from prompts.experiments.batch_actions import start_batch
from prompts.experiments.models import Batch, BatchRow, VariantRun
from studio.audit.models import AuditLog
from tests.conftest import CHAT_URL, completion
from tests.prompts import batch_helpers
from tests.prompts.batch_helpers import INSUFFICIENT_BALANCE, make_batch, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
experiment = batch_helpers.experiment

ORIGIN = {"ip": "203.0.113.9", "session": "5e55", "channel": "ui"}


def _answer(request):
    body = json.loads(request.content)
    product = "Aurora" if "Aurora" in body["messages"][-1]["content"] else "Beacon"
    return completion(f"**{product}**, described.")


@respx.mock
def test_the_worker_generates_every_row_and_variant_as_tagged_draft_versions(experiment, user):
    route = respx.post(CHAT_URL).mock(side_effect=_answer)
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin=ORIGIN)

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "prompts.experiments.tasks.run_batch"
    assert queued.status == TaskResultStatus.READY
    run_worker()

    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    assert (batch.done_count, batch.failed_count, batch.total) == (4, 0, 4)
    assert batch.finished is not None
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL
    assert route.call_count == 4
    assert all(b'"stream":false' in call.request.content for call in route.calls)
    rows = list(batch.rows.select_related("run"))
    assert [r.status for r in rows] == [BatchRow.Status.DONE] * 2
    outputs = VariantRun.objects.filter(run__batch_row__batch=batch).select_related("generation")
    assert sorted(o.variant.name for o in outputs) == ["Plain", "Plain", "Question", "Question"]
    for output in outputs:
        generation = output.generation
        assert generation.status == Generation.Status.DONE
        assert (generation.prompt_tokens, generation.completion_tokens) == (12, 5)
        assert generation.cost is not None and generation.cost > 0
        assert generation.inputs == output.run.inputs
        version = DraftVersion.objects.get(generation=generation)
        assert (version.number, version.source) == (1, DraftVersion.Source.VARIANT)
        product = output.run.inputs["product_name"].split()[0]
        assert version.text == f"**{product}**, described."
    audit = AuditLog.objects.filter(generation_id__in=[o.generation_id for o in outputs])
    assert audit.count() == 4
    assert {(a.status, a.ip, a.user_id) for a in audit} == {("ok", "203.0.113.9", user.pk)}


@respx.mock
def test_a_failing_row_is_recorded_and_the_batch_goes_on(experiment, user, settings):
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1

    def answer(request):
        return INSUFFICIENT_BALANCE if b"Beacon" in request.content else _answer(request)

    respx.post(CHAT_URL).mock(side_effect=answer)
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin=ORIGIN)
    run_worker()

    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    assert (batch.done_count, batch.failed_count) == (2, 2)
    good, bad = batch.rows.order_by("line")
    assert (good.line, good.status, good.error) == (2, BatchRow.Status.DONE, "")
    assert (bad.line, bad.status) == (3, BatchRow.Status.FAILED)
    assert "Plain:" in bad.error and "Question:" in bad.error and "balance" in bad.error.lower()
    failed = Generation.objects.filter(variant_run__run=bad.run)
    assert {g.status for g in failed} == {Generation.Status.FAILED}
    assert not DraftVersion.objects.filter(generation__in=failed).exists()
    statuses = AuditLog.objects.values_list("status", flat=True)
    assert sorted(statuses) == ["failed", "failed", "ok", "ok"]


@respx.mock
def test_a_batch_starts_once(experiment, user):
    from prompts.experiments.actions import InvalidExperiment

    respx.post(CHAT_URL).mock(side_effect=_answer)
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin={})
    with pytest.raises(InvalidExperiment):
        start_batch(batch=batch, origin={})
    assert DBTaskResult.objects.count() == 1


@respx.mock
def test_a_batch_never_asks_for_more_than_the_daily_budget(experiment, user, settings):
    """A row's variants run at once: the first holds all that is left (its answer shortened
    to fit), the other finds no room and fails with the budget's message."""
    from studio.deepseek.pricing import estimate_prompt_tokens

    route = respx.post(CHAT_URL).mock(side_effect=_answer)
    batch = make_batch(experiment, user)
    settings.AI_DAILY_TOKEN_BUDGET = 2000
    start_batch(batch=batch, origin=ORIGIN)
    run_worker()

    asked = [json.loads(call.request.content) for call in route.calls]
    held = [estimate_prompt_tokens(body["messages"]) + body["max_tokens"] for body in asked]
    assert held == [2000, 2000 - 17]  # the first row's call used 17 tokens
    batch.refresh_from_db()
    assert batch.failed_count == 2
    refused = Generation.objects.filter(error_code="daily_budget_exceeded")
    assert refused.count() == 2 and "daily budget" in refused.first().error_message


@respx.mock
def test_a_variant_that_finishes_first_hands_its_sibling_nothing(
    experiment, user, settings, monkeypatch
):
    """The row's second variant gets going only once the first has answered and given its
    hold back: it still finds no room, since every variant held its share before any asked."""
    import asyncio

    from drafts.generation import GENERATIONS
    from studio.guardrails.budgets import Reservation

    route = respx.post(CHAT_URL).mock(side_effect=_answer)
    settings.AI_DAILY_TOKEN_BUDGET = 2000
    events: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
    started: list[int] = []
    waited: set[int] = set()
    mark_alive, release = GENERATIONS.amark_alive, Reservation.arelease

    def released() -> asyncio.Event:
        return events.setdefault(asyncio.get_running_loop(), asyncio.Event())

    async def late_second(generation_id, *args, **kwargs):
        if generation_id not in started:  # its first beat (the heartbeat beats again)
            started.append(generation_id)
        if started.index(generation_id) % 2 == 1 and generation_id not in waited:
            waited.add(generation_id)  # a row's second variant: after the first gave back
            async with asyncio.timeout(10):
                await released().wait()
            released().clear()
        return await mark_alive(generation_id, *args, **kwargs)

    async def noting(self):
        held = self.tokens
        await release(self)
        if held:
            released().set()

    monkeypatch.setattr(GENERATIONS, "amark_alive", late_second)
    monkeypatch.setattr(Reservation, "arelease", noting)
    start_batch(batch=make_batch(experiment, user), origin=ORIGIN)
    run_worker()

    asked = [json.loads(call.request.content)["messages"] for call in route.calls]
    assert len(asked) == 2  # one variant a row
    refused = Generation.objects.filter(error_code="daily_budget_exceeded")
    assert refused.count() == 2


@respx.mock
def test_a_database_blip_during_a_batch_loses_no_output(experiment, user, caplog, monkeypatch):
    """Issue 23: the worker's connection dropped while DeepSeek answered; the batch's next
    database write now runs again on a new connection instead of failing the output."""
    from django.db import connections

    from prompts.experiments import batch_progress
    from tests.database_blips import terminate

    worker: dict[str, object] = {}  # the connection the batch's database work runs on
    mark_started = batch_progress.mark_started

    def noting_the_connection(**kwargs):
        started = mark_started(**kwargs)
        connection = connections["default"]
        worker["raw"] = connection.connection
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (worker["pid"],) = cursor.fetchone()
        return started

    monkeypatch.setattr(batch_progress, "mark_started", noting_the_connection)
    dropped = []

    def answer_after_a_blip(request):
        if not dropped:  # SQLite: the handle dies under Django
            pid = worker.get("pid")
            dropped.append(terminate(f"pid = {int(pid)}") if pid else worker["raw"].close())
        return _answer(request)

    respx.post(CHAT_URL).mock(side_effect=answer_after_a_blip)
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin=ORIGIN)
    run_worker()

    batch.refresh_from_db()
    assert dropped in ([None], [1])
    assert "The database connection was lost" in caplog.text
    assert (batch.status, batch.done_count, batch.failed_count) == (Batch.Status.DONE, 4, 0)
    outputs = VariantRun.objects.filter(run__batch_row__batch=batch)
    assert DraftVersion.objects.filter(generation__variant_run__in=outputs).count() == 4
