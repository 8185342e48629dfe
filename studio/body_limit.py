"""The request body cap, enforced in ASGI before Django reads the body.

Django's ASGI handler spools the whole body to a temporary file before any middleware or
view runs, so DATA_UPLOAD_MAX_MEMORY_SIZE and the upload forms' own caps only act after a
50 MB upload has been received. This wrapper answers 413 first: at once when the declared
Content-Length is over REQUEST_BODY_MAX_SIZE, or as soon as a chunked body passes it.
The knowledge pages (``/w/<id>/knowledge/…``), where a document of KNOWLEDGE_MAX_BYTES is
uploaded, have a cap of their own, KNOWLEDGE_BODY_MAX_SIZE; every other path keeps the
smaller one.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

_KNOWLEDGE = re.compile(r"^/w/\d+/knowledge/")


def limit_for(path: str) -> int:
    """The most bytes a request body to ``path`` may have."""
    if _KNOWLEDGE.match(path):
        return max(settings.REQUEST_BODY_MAX_SIZE, settings.KNOWLEDGE_BODY_MAX_SIZE)
    return settings.REQUEST_BODY_MAX_SIZE


def body_limit(app):
    """Wrap an ASGI app so that no request body over REQUEST_BODY_MAX_SIZE reaches it."""

    async def limited(scope, receive, send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        if _content_length(scope) > limit:
            await refuse(scope, send)
            return
        received, over, started = 0, False, False

        async def counted_receive() -> dict[str, Any]:
            nonlocal received, over
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                over = True  # Django sees a disconnect and stops reading
                return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await app(scope, counted_receive, tracked_send)
        if over and not started:
            await refuse(scope, send)

    return limited


def _content_length(scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server refuses a malformed length before we are called
    return 0


async def refuse(scope, send) -> None:
    """413 in the request's language: the API's JSON envelope under /api/, else a short page."""
    request = ASGIRequest(scope, io.BytesIO())
    with translation.override(translation.get_language_from_request(request)):
        message = _("The request is too large (at most %(max)s MB).") % {
            "max": limit_for(scope["path"]) // (1024 * 1024)
        }
    if scope["path"].startswith("/api/"):
        error = {"message": message, "type": "invalid_request_error", "code": "request_too_large"}
        body, kind = json.dumps({"error": error | {"param": None}}).encode(), b"application/json"
    else:
        body = f"<!doctype html><title>413</title><h1>{escape(message)}</h1>".encode()
        kind = b"text/html; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    headers.append((b"connection", b"close"))  # the unread body is not worth draining
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
