"""Write audit rows for AI calls.

``record_ai_call`` writes one row; ``observe_ai_call`` (studio.audit.metrics) counts the call
in Prometheus. ``record_generation`` does both for a finished ``drafts.Generation``, taking the
caller's IP, session or API key from the generation's own origin columns (written with the
row by the generate action: the request that started it is long gone when the runner ends).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from studio.observability import log_ai_call

from .metrics import observe_ai_call
from .models import AuditLog
from .origin import Origin, client_ip, session_tag

__all__ = ["client_ip", "session_tag"]  # kept importable from here for existing callers

if TYPE_CHECKING:
    from drafts.models import Generation

_GENERATION_STATUS = {"done": AuditLog.Status.OK}


def format_prompt(prompt: str | list[dict[str, Any]]) -> str:
    """Chat messages as readable text: ``role: content`` blocks (strings pass through)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"{m.get('role', '?')}: {_content(m.get('content'))}" for m in prompt)


def _content(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def request_origin(request: HttpRequest) -> dict[str, Any]:
    """Who called and how: IP, session tag or API key, request id, channel (``Origin``)."""
    return Origin.from_request(request).as_dict()


def record_ai_call(
    *,
    status: str,
    request: HttpRequest | None = None,
    prompt: str | list[dict[str, Any]] = "",
    response: str = "",
    model: str = "",
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    total_tokens: int | None = None,
    cost: Decimal | float | None = None,
    latency_ms: int | None = None,
    ttft_ms: int | None = None,
    error_code: str = "",
    cached: bool = False,
    user: Any = None,
    user_id: int | None = None,
    workspace: Any = None,
    workspace_id: int | None = None,
    generation_id: int | None = None,
    **origin: Any,
) -> AuditLog:
    """Write one audit row for an AI call (sync). Returns the row.

    ``request`` fills IP, session tag, API key and request id; without it pass them in
    ``origin`` (``ip=``, ``session=``, ``api_key_id=``, ``request_id=``, ``channel=``).
    ``status`` takes the audit statuses or the generation statuses (``done`` means ``ok``).
    """
    fields = request_origin(request) if request is not None else {}
    fields |= origin
    if total_tokens is None and prompt_tokens is not None and completion_tokens is not None:
        total_tokens = prompt_tokens + completion_tokens
    row = AuditLog.objects.create(
        status=_GENERATION_STATUS.get(status, status),
        user_id=user.pk if user is not None else user_id,
        workspace_id=workspace.pk if workspace is not None else workspace_id,
        generation_id=generation_id,
        prompt=format_prompt(prompt),
        response=response,
        model=model[: AuditLog._meta.get_field("model").max_length],  # callers name models
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=total_tokens,
        cost=cost,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        error_code=error_code[:64],
        cached=cached,
        **fields,
    )
    log_ai_call(row)
    return row


async def arecord_ai_call(**fields: Any) -> AuditLog:
    """``record_ai_call`` for async code (same keyword arguments)."""
    return await sync_to_async(record_ai_call)(**fields)


def record_generation(generation: Generation | int) -> AuditLog:
    """Audit and count a finished ``drafts.Generation`` (sync): one row, one metrics call.

    Given the instance as it was just saved (the runner's, with its draft), nothing is read
    back; given an id, it is loaded."""
    from drafts.models import Generation  # drafts depends on the platform, not the reverse

    if not isinstance(generation, Generation):
        generation = Generation.objects.select_related("draft").get(pk=generation)
    origin = generation.origin.as_dict()  # its own columns, stored with the row
    prompt_tokens, completion_tokens, cost = _billed(generation)
    row = record_ai_call(
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


def _billed(generation) -> tuple[int | None, int | None, Decimal | None]:
    """Tokens and cost: DeepSeek's count, or for a stream that ended before its usage chunk
    (stopped, cut off, interrupted) an estimate of the prompt and the new text, which DeepSeek
    bills too; without it, stopping just before the end would keep calls out of the budget."""
    new_text = generation.reasoning + generation.text.removeprefix(generation.prefix)
    if generation.prompt_tokens is not None or not new_text:
        return generation.prompt_tokens, generation.completion_tokens, generation.cost
    from studio.ai import generation_cost
    from studio.deepseek import estimated_usage

    usage = estimated_usage(generation.messages, new_text)
    cost = generation_cost(generation.model, usage, generation.created)
    return usage.prompt_tokens, usage.completion_tokens, cost


async def arecord_generation(generation: Generation | int) -> AuditLog:
    """``record_generation`` for async code (the runner)."""
    return await sync_to_async(record_generation)(generation)


def _seconds(ms: int | None) -> float | None:
    return ms / 1000 if ms is not None else None
