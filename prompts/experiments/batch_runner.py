"""The background half of batch experiments, run by the worker (``prompts.experiments.tasks``).

``run_batch``: for each pending row, a side-by-side run (``start_run``: a draft and a queued
generation per variant, tagged through ``VariantRun`` exactly as the side-by-side page does),
then every variant's answer as one non-streaming call through the studio's client (retries,
circuit breaker), kept as a draft version with its usage and cost, and audited. A failed call
or row is recorded and the batch goes on.

Its database work that may safely run twice (status changes, reads, a generation's end) goes
through ``background.aheal``: after a database blip it runs once more on a new connection.
Counting an output (an increment) and starting a row's run (new rows) are not retried.

``judge_batch``: each finished output scored 1–10 against the batch's rubric by the thinking
route, stored as a ``JudgeScore`` (never a vote) and audited like any AI call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.utils import timezone

from drafts.actions import finish_generation, mark_running
from drafts.audit import arecord_generation
from drafts.generate import NotAllowed
from drafts.generation import GENERATIONS
from drafts.models import Generation
from studio import ai, background
from studio.ai import generation_cost, get_client, route_for
from studio.audit.metrics import observe_ai_call
from studio.audit.recording import record_ai_call
from studio.deepseek import DeepSeekError, Usage
from studio.guardrails.budgets import (
    BudgetExceeded,
    Reservation,
    areserve_tokens,
    check_token_budget,
)

from . import batch_progress as actions
from .actions import InvalidExperiment
from .judging import judge_messages, parse_verdict
from .models import Batch, BatchRow, JudgeScore, VariantRun

logger = logging.getLogger(__name__)


async def run_batch(batch_id: int, attempt: int | None = None) -> dict[str, int]:
    """Generate every pending row of the batch; returns the final counts.

    ``attempt`` is the batch's attempt this task was queued for: once a resume has started a
    newer one, this task stops before its next row and leaves the batch to it.
    """
    if not await background.aheal(actions.mark_started)(batch_id=batch_id, attempt=attempt):
        logger.warning("Batch %s: attempt %s was superseded, nothing to do", batch_id, attempt)
        return {"superseded": 1}
    logger.info("Batch %s started (attempt %s)", batch_id, attempt)
    current = background.aheal(actions.is_current)
    try:
        async with _own_client():
            for row in await background.aheal(_pending_rows)(batch_id):
                if not await current(batch_id=batch_id, attempt=attempt):
                    logger.warning("Batch %s: attempt %s was superseded", batch_id, attempt)
                    return {"superseded": 1}
                await _run_row(row)
    except BaseException as exc:
        logger.exception("Batch %s stopped", batch_id)
        await background.aheal(actions.mark_finished)(
            batch_id=batch_id, error=repr(exc), attempt=attempt
        )
        raise
    await background.aheal(actions.mark_finished)(batch_id=batch_id, attempt=attempt)
    batch = await Batch.objects.aget(pk=batch_id)
    logger.info(
        "Batch %s finished: %s done, %s failed", batch_id, batch.done_count, batch.failed_count
    )
    return {"done": batch.done_count, "failed": batch.failed_count, "total": batch.total}


@asynccontextmanager
async def _own_client() -> AsyncIterator[None]:
    """Close the pooled client afterwards if it was made for this task: the worker runs each
    task on an event loop of its own, whose client would otherwise leak. A client the task
    found already open (a backend that runs tasks on the server's loop) is left alone."""
    before = ai._current
    try:
        yield
    finally:
        if ai._current is not None and ai._current is not before:
            await ai.close_client()


def _pending_rows(batch_id: int) -> list[BatchRow]:
    rows = BatchRow.objects.filter(batch_id=batch_id, status=BatchRow.Status.PENDING)
    return list(rows.select_related("batch__experiment__workspace", "batch__created_by", "run"))


async def _run_row(row: BatchRow) -> None:
    """One row: every variant at once (as side by side does); failures are the row's own.

    A row a dead worker left half-way (resumed) keeps its run: only its outputs still queued
    are generated, the finished ones are counted as they are.
    """
    batch = row.batch
    variants = await batch.experiment.variants.acount()
    try:
        if row.run_id:  # resumed: its generations exist, the generate action checked them
            await sync_to_async(check_token_budget)(batch.created_by, origin=batch.origin)
            run = row.run
        else:  # the generate action checks the role and the budget, with the batch's origin
            run = await sync_to_async(actions.start_row)(row=row)
    except (BudgetExceeded, NotAllowed, InvalidExperiment) as exc:
        message = str(exc) if isinstance(exc, InvalidExperiment) else exc.message
        for _ in range(variants):
            await sync_to_async(actions.count_output)(batch_id=batch.pk, failed=True)
        await background.aheal(actions.finish_row)(row_id=row.pk, errors=[message])
        return
    columns = [
        c async for c in run.columns.select_related("variant", "generation").order_by("position")
    ]
    todo = [c.generation for c in columns if c.generation.status == Generation.Status.QUEUED]
    # Every variant holds its share of the budget before any of them asks: they run at once,
    # so one that finishes first never hands its sibling what it held meanwhile.
    held = [await _hold(generation) for generation in todo]
    await asyncio.gather(*(_generate_output(g.pk, h) for g, h in zip(todo, held, strict=True)))
    ids = [c.generation_id for c in columns]
    ended = {g.pk: g async for g in Generation.objects.filter(pk__in=ids)}
    results = [ended[generation_id] for generation_id in ids]
    errors = []
    for column, generation in zip(columns, results, strict=True):
        failed = generation.status != Generation.Status.DONE
        await sync_to_async(actions.count_output)(batch_id=batch.pk, failed=failed)
        if failed:
            errors.append(f"{column.variant.name}: {generation.error_message or generation.status}")
    await background.aheal(actions.finish_row)(row_id=row.pk, errors=errors)


async def _hold(generation: Generation) -> Reservation | Exception:
    """Its tokens held against its author's daily budget, or why they could not be (the
    output then fails with it: ``_answer_output``)."""
    try:
        return await areserve_tokens(
            generation.created_by_id,
            generation.messages,
            max_tokens=generation.params.get("max_tokens"),
            runner=True,
        )
    except Exception as exc:  # BudgetExceeded: the row's check passed, others took the rest
        return exc


async def _generate_output(generation_id: int, held: Reservation | Exception) -> Generation:
    """One queued generation answered in one non-streaming call, kept as a draft version.

    While it runs, the generations' heartbeat (``studio.streams``) tells pages in every
    worker that it is not an orphan."""
    await GENERATIONS.amark_alive(generation_id)
    async with GENERATIONS.heartbeat(generation_id, marked=True):
        await _answer_output(generation_id, held)
    return await Generation.objects.aget(pk=generation_id)


async def _answer_output(generation_id: int, held: Reservation | Exception) -> None:
    generation = await background.aheal(Generation.objects.get)(pk=generation_id)
    await background.aheal(mark_running)(generation_id=generation_id)
    params = generation.params
    started = time.monotonic()
    status, text, reasoning = Generation.Status.DONE, "", ""
    fields: dict[str, object] = {}
    reservation = held if isinstance(held, Reservation) else Reservation()
    try:
        if isinstance(held, Exception):
            raise held
        result = await get_client().chat(
            messages=generation.messages,
            model=generation.model,
            max_tokens=reservation.max_tokens,
            temperature=params.get("temperature"),
            thinking=params.get("thinking"),
            reasoning_effort=params.get("reasoning_effort"),
        )
        text, reasoning = result.content, result.reasoning
        fields = {"finish_reason": result.finish_reason}
        fields |= _usage_fields(generation.model, result.usage, generation.created)
    except DeepSeekError as exc:
        status = Generation.Status.FAILED
        fields = {"error_code": type(exc).__name__, "error_message": exc.user_message}
    except BudgetExceeded as exc:  # the row's check passed; other calls took the rest
        status = Generation.Status.FAILED
        fields = {"error_code": "daily_budget_exceeded", "error_message": exc.message}
    except Exception:
        logger.exception("Batch generation %s failed unexpectedly", generation_id)
        status = Generation.Status.FAILED
        fields = {"error_code": "InternalError", "error_message": "Something went wrong."}
    fields["duration_ms"] = round((time.monotonic() - started) * 1000)
    await background.aheal(finish_generation)(
        generation_id=generation_id, status=status, text=text, reasoning=reasoning, fields=fields
    )
    try:
        await arecord_generation(generation_id)
    except Exception:
        logger.exception("Could not audit generation %s", generation_id)
    await reservation.arelease()  # the audit row counts the call from now on


def _usage_fields(model: str, usage: Usage, at) -> dict[str, object]:
    return {
        "cost": generation_cost(model, usage, at),
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cache_hit_tokens": usage.prompt_cache_hit_tokens,
        "cache_miss_tokens": usage.prompt_cache_miss_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


async def judge_batch(batch_id: int) -> dict[str, int]:
    """Score every finished output of the batch against its rubric (thinking route)."""
    judge_status = background.aheal(actions.set_judge_status)
    await judge_status(batch_id=batch_id, status=Batch.Status.RUNNING)
    batch = await Batch.objects.select_related("experiment").aget(pk=batch_id)
    try:
        async with _own_client():
            for output in await background.aheal(_judgeable)(batch):
                await _judge_one(batch, output)
    except BaseException:
        logger.exception("Judging batch %s stopped", batch_id)
        await judge_status(batch_id=batch_id, status=Batch.Status.FAILED)
        raise
    await judge_status(batch_id=batch_id, status=Batch.Status.DONE)
    scores = JudgeScore.objects.filter(batch_id=batch_id)
    return {"scored": await scores.filter(status=JudgeScore.Status.SCORED).acount()}


def _judgeable(batch: Batch) -> list[VariantRun]:
    outputs = batch.outputs().filter(generation__status=Generation.Status.DONE)
    return list(outputs.select_related("generation", "run").order_by("run", "position"))


async def _judge_one(batch: Batch, output: VariantRun) -> JudgeScore:
    """Ask the judge about one output; an unreadable reply or a failed call is recorded."""
    route = route_for("reasoning")
    params = route.params()
    messages = judge_messages(
        rubric=batch.rubric, inputs=output.run.inputs, output=output.generation.text
    )
    started, at = time.monotonic(), timezone.now()
    save = sync_to_async(actions.save_judge_score)
    # Judging is the batch owner's call: a spent budget stops the judging (BudgetExceeded).
    async with await areserve_tokens(
        batch.created_by_id, messages, max_tokens=1024, runner=True
    ) as held:
        try:
            result = await get_client().chat(
                messages=messages,
                max_tokens=held.max_tokens,
                response_format="json_object",
                **params,
            )
        except DeepSeekError as exc:
            await _audit_judge(batch, messages, "", params["model"], None, None, started, exc)
            return await save(
                batch=batch, output=output, status=JudgeScore.Status.FAILED, score=None,
                reason=exc.user_message, model=params["model"],
            )  # fmt: skip
        cost = generation_cost(params["model"], result.usage, at)
        usage = result.usage
        await _audit_judge(batch, messages, result.content, params["model"], usage, cost, started)
    verdict = parse_verdict(result.content)
    status = JudgeScore.Status.SCORED if verdict.parsed else JudgeScore.Status.UNPARSEABLE
    return await save(
        batch=batch, output=output, status=status, score=verdict.score, reason=verdict.reason,
        raw=result.content, model=params["model"], cost=cost,
    )  # fmt: skip


async def _audit_judge(
    batch: Batch,
    messages: list[dict[str, str]],
    response: str,
    model: str,
    usage: Usage | None,
    cost: Decimal | None,
    started: float,
    error: DeepSeekError | None = None,
) -> None:
    """An audit row and the metrics for one judge call (never fails the judging)."""
    latency = time.monotonic() - started
    status = "failed" if error else "ok"
    tokens = {
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
    }
    try:
        row = await sync_to_async(record_ai_call)(
            status=status,
            user_id=batch.created_by_id,
            workspace_id=batch.experiment.workspace_id,
            prompt=messages,
            response=response,
            model=model,
            cost=cost,
            latency_ms=round(latency * 1000),
            error_code=type(error).__name__ if error else "",
            **tokens,
            **(batch.origin or {}),
        )
        observe_ai_call(
            model=model,
            status=row.status,
            latency_s=latency,
            ttft_s=None,
            cost=cost,
            error_kind=row.error_code,
            **tokens,
        )
    except Exception:
        logger.exception("Could not audit a judge call of batch %s", batch.pk)
