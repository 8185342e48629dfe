"""HTTP helpers for views: the htmx request type, numbers from requests, and long responses
that hold no thread."""

import re
from collections.abc import AsyncIterator

from asgiref.sync import SyncToAsync
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# The largest id or number a request may name: PostgreSQL's bigint, and what SQLite stores.
MAX_REQUEST_NUMBER = 2**63 - 1
_ASCII_NUMBER = re.compile(r"[0-9]{1,19}")


def request_number(raw: str | None, *, maximum: int = MAX_REQUEST_NUMBER) -> int | None:
    """A non-negative whole number from a query string, form field or header; else None.

    ASCII digits only: ``str.isdigit()`` also accepts superscripts (``²``) and other scripts'
    digits, some of which ``int()`` then refuses (a 500); a bound keeps the number within what
    the database and ``int()`` take.
    """
    if raw is None or not _ASCII_NUMBER.fullmatch(raw):
        return None
    number = int(raw)
    return number if number <= maximum else None


def release_request_thread() -> None:
    """Let this request's thread go for the rest of a long response.

    Django runs an ASGI request's synchronous parts (middleware, ORM calls) on a thread of
    its own, kept until the response has been sent: for an SSE stream, an idle OS thread per
    open stream for minutes (the benchmark's memory per stream). Once the body streams, the
    middleware is done and nothing synchronous is left but rare fallbacks, which get a fresh
    thread when they need one.
    """
    context = SyncToAsync.thread_sensitive_context.get(None)
    executor = SyncToAsync.context_to_thread_executor.pop(context, None) if context else None
    if executor is not None:
        executor.shutdown(wait=False)


async def threadless(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream, with the request's thread given back before its first frame."""
    release_request_thread()
    async for frame in stream:
        yield frame
