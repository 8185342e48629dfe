"""Where an AI call came from: the typed origin every generation and audit row carries.

Built once at the edge (``Origin.from_request``) and passed down: the generate action stores
it on the generation's own columns, in the same transaction as the row, and the audit row
reads it back from there when the generation ends. A background job (a batch) keeps the
``as_dict()`` of the request that started it and rebuilds it with ``from_dict``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from django.http import HttpRequest

from studio.observability import current_request_id

from .models import AuditLog


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (uvicorn's --proxy-headers puts the real one in REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR") or None


def session_tag(request: HttpRequest) -> str:
    """A short hash identifying the browser session, never the session key itself."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""


@dataclass(frozen=True)
class Origin:
    """Who called and how: channel, client IP, API key, session hash, request id."""

    channel: str = AuditLog.Channel.UI
    ip: str | None = None
    api_key_id: int | None = None
    session: str = ""
    request_id: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> Origin:
        api_key = getattr(request, "api_key", None)
        match = getattr(request, "resolver_match", None)
        if api_key is None:
            channel = AuditLog.Channel.UI
        elif match is not None and match.view_name == "api_ai:chat_completions":
            channel = AuditLog.Channel.OPENAI
        else:
            channel = AuditLog.Channel.API
        return cls(
            channel=channel,
            ip=client_ip(request),
            api_key_id=api_key.pk if api_key else None,
            session="" if api_key else session_tag(request),
            request_id=current_request_id() or request.headers.get("X-Request-ID", "")[:64],
        )

    @classmethod
    def from_dict(cls, fields: dict[str, Any] | None) -> Origin:
        """An origin saved with ``as_dict`` (unknown keys are ignored)."""
        fields = fields or {}
        known = {name: fields[name] for name in cls.__dataclass_fields__ if name in fields}
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        """The audit row's origin fields (``ip``, ``session``, ``api_key_id``, ``request_id``,
        ``channel``), JSON-safe."""
        return {**asdict(self), "channel": str(self.channel)}
