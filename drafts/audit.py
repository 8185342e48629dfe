"""Audit a finished generation: one audit row and one metrics call.

Drafts calls down into the audit layer (``record_ai_call``, ``observe_ai_call``); the caller's
IP, session or API key come from the generation's own origin columns (written with the row by
the generate action: the request that started it is long gone when the runner ends).
"""

from __future__ import annotations

from decimal import Decimal

from studio import background
from studio.ai import generation_cost
from studio.audit.metrics import observe_ai_call
from studio.audit.models import AuditLog
from studio.audit.recording import record_ai_call
from studio.deepseek import estimated_usage

from .models import Generation


def record_generation(generation: Generation | int, *, again: bool = False) -> AuditLog:
    """Audit and count a finished ``drafts.Generation`` (sync): one row, one metrics call.

    Given the instance as it was just saved (the runner's, with its draft), nothing is read
    back; given an id, it is loaded. ``again``: a retry after the connection was lost, when
    the first try's row may have been written: a row that exists is kept, not doubled."""
    if not isinstance(generation, Generation):
        generation = Generation.objects.select_related("draft").get(pk=generation)
    prompt_tokens, completion_tokens, cost = _billed(generation)
    row = None
    if again:
        row = AuditLog.objects.filter(generation_id=generation.pk).first()
    row = row or _write_row(generation, prompt_tokens, completion_tokens, cost)
    observe_ai_call(
        model=generation.model,
        status=row.status,
        latency_s=_seconds(generation.duration_ms),
        ttft_s=_seconds(generation.ttft_ms),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost,
        error_kind=generation.error_code,
    )
    return row


def _write_row(
    generation: Generation,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    cost: Decimal | None,
) -> AuditLog:
    origin = generation.origin.as_dict()  # its own columns, stored with the row
    return record_ai_call(
        status=generation.status,
        user_id=generation.created_by_id,
        workspace_id=generation.draft.workspace_id,
        generation_id=generation.pk,
        prompt=generation.messages,
        response=generation.text,
        model=generation.model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost,
        latency_ms=generation.duration_ms,
        ttft_ms=generation.ttft_ms,
        error_code=generation.error_code,
        cached=generation.cached,
        **origin,
    )


def _billed(generation: Generation) -> tuple[int | None, int | None, Decimal | None]:
    """Tokens and cost: DeepSeek's count, or for a stream that ended before its usage chunk
    (stopped, cut off, interrupted) an estimate of the prompt and the new text, which DeepSeek
    bills too; without it, stopping just before the end would keep calls out of the budget."""
    new_text = generation.reasoning + generation.text.removeprefix(generation.prefix)
    if generation.prompt_tokens is not None or not new_text:
        return generation.prompt_tokens, generation.completion_tokens, generation.cost
    usage = estimated_usage(generation.messages, new_text)
    cost = generation_cost(generation.model, usage, generation.created)
    return usage.prompt_tokens, usage.completion_tokens, cost


async def arecord_generation(generation: Generation | int) -> AuditLog:
    """``record_generation`` for async code (the runners), healed after a lost connection."""
    return await background.aheal(record_generation, again=_record_again)(generation)


def _record_again(generation: Generation | int) -> AuditLog:
    return record_generation(generation, again=True)


def _seconds(ms: int | None) -> float | None:
    return ms / 1000 if ms is not None else None
