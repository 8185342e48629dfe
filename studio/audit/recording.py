"""Write audit rows for AI calls.

``record_ai_call`` writes one row; ``observe_ai_call`` (studio.audit.metrics) counts the call
in Prometheus. A finished generation is audited by ``drafts.audit.record_generation``, which
calls both: the audit layer knows nothing of drafts.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from studio.observability import log_ai_call

from .models import AuditLog
from .origin import Origin, client_ip, session_tag

__all__ = ["client_ip", "session_tag"]  # kept importable from here for existing callers

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
