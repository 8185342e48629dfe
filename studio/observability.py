"""Structured logs: a request id for every request, one line per request and per AI call.

- ``RequestLogMiddleware`` takes the caller's ``X-Request-ID`` when it is a sane token (a
  proxy's or client's id ties our lines to theirs), else makes one; sends it back in the
  response's ``X-Request-ID``; and logs one line per request (``studio.request``: method,
  path, status, duration_ms, user_id, request_id).
- ``log_ai_call`` logs one line per AI call (``studio.ai``: model, status, tokens, cost,
  latency, generation id, request id); the audit recorder calls it for every row it writes.
- The id lives in a contextvar, so every log line written while handling the request, and by
  the generation it started (``task_context``), carries it through ``RequestIdFilter``.

The format is python-json-logger's JSON (one object per line) or plain text: ``LOG_FORMAT``
(JSON by default, text when DEBUG) and ``LOG_LEVEL`` in settings.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# Letters, digits and a little punctuation, up to 64 characters (the audit log's column):
# anything else (newlines, quotes, a megabyte) is replaced, never logged.
VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
HEADER = "X-Request-ID"

request_logger = logging.getLogger("studio.request")
ai_logger = logging.getLogger("studio.ai")


def current_request_id() -> str:
    """The id of the request being handled ("" outside one)."""
    return request_id_var.get()


def request_id_from(raw: str | None) -> str:
    """The caller's id when it is valid, else a new one (32 hex digits)."""
    if raw and VALID_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def task_context() -> contextvars.Context:
    """A fresh context for a background task that keeps only the current request id."""
    context = contextvars.Context()
    context.run(request_id_var.set, request_id_var.get())
    return context


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` (the current one, or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        return True


class QuietRefusal(logging.Filter):
    """Logs a refused request (a bad Host header: scanners send thousands) as one WARNING
    line without a traceback, instead of Django's ERROR, which pages whoever watches errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


class RequestLogMiddleware:
    """Request id in and out, and one log line per request (sync and async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        token, started = self._start(request)
        try:
            response = self.get_response(request)
            self._finish(request, response, started)
            return response
        finally:
            request_id_var.reset(token)

    async def __acall__(self, request: HttpRequest):
        token, started = self._start(request)
        try:
            response = await self.get_response(request)
            self._finish(request, response, started)
            return response
        finally:
            request_id_var.reset(token)

    def _start(self, request: HttpRequest) -> tuple[contextvars.Token, float]:
        request.request_id = request_id_from(request.headers.get(HEADER))
        return request_id_var.set(request.request_id), time.perf_counter()

    def _finish(self, request: HttpRequest, response: HttpResponseBase, started: float) -> None:
        response[HEADER] = request.request_id
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        # The user as authentication already loaded it (sync or async): no query of our own.
        user = getattr(request, "_cached_user", None) or getattr(request, "_acached_user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
                "request_id": request.request_id,
            },
        )


def log_ai_call(row: Any) -> None:
    """One line for an AI call, from its audit row (``studio.audit.models.AuditLog``)."""
    ai_logger.info(
        "AI call %s %s %s tokens",
        row.model,
        row.status,
        row.total_tokens,
        extra={
            "model": row.model,
            "status": row.status,
            "prompt_tokens": row.prompt_tokens,
            "completion_tokens": row.completion_tokens,
            "total_tokens": row.total_tokens,
            "cost": str(row.cost) if row.cost is not None else None,
            "latency_ms": row.latency_ms,
            "ttft_ms": row.ttft_ms,
            "generation_id": row.generation_id,
            "user_id": row.user_id,
            "channel": row.channel,
            "cached": row.cached,
            "error_code": row.error_code,
            "request_id": row.request_id or request_id_var.get(),
        },
    )
