"""The audit row of an AI call refused before it was made: over a rate limit or a budget."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from studio.audit.models import AuditLog
from studio.audit.recording import record_ai_call


def audit_refusal(
    request: HttpRequest | None, *, status: str, code: str, user=None, **fields: Any
) -> None:
    """An audit row for an AI call refused before it was made (nothing was sent).

    Only for a known user (a session or an API key): an anonymous refusal is no AI call.
    """
    user = user or getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    if request is not None:
        match = request.resolver_match
        if match and match.view_name == "api_ai:chat_completions":
            fields.setdefault("channel", AuditLog.Channel.OPENAI)
    record_ai_call(request=request, status=status, user=user, error_code=code, **fields)
