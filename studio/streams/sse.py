"""The HTTP side of a stream: where a watcher resumes, the end rendered for *its* viewer,
the response's headers, and the database connections given back before a long stream."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

from django.db import connections
from django.http import HttpRequest, StreamingHttpResponse

from .events import Done
from .framing import sse_event

_SEQ = re.compile(r"[0-9]{1,19}")
_MAX_SEQ = 2**63 - 1


def last_event_id(request: HttpRequest) -> int:
    """Where a watcher resumes: the browser's Last-Event-ID on reconnect, else ?after=.

    One that is not a number (ASCII digits, within a bigint) replays from the start: the
    watcher sees every frame once more rather than an error."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after")
    if raw is None or not _SEQ.fullmatch(raw) or int(raw) > _MAX_SEQ:
        return 0
    return int(raw)


def release_connections() -> None:
    """Give this thread's database connections back (to the pool, on PostgreSQL) before a
    long stream. One inside a transaction is left alone: closing it would break the
    transaction (in tests, each test runs inside one)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


async def frames(
    source: AsyncIterator[bytes | Done], render: Callable[[Done], Awaitable[str]]
) -> AsyncIterator[bytes]:
    """The source's frames, its ``Done`` as the final ``done`` frame with ``render``'s HTML.

    ``render`` runs once, at the end, for the viewer whose request watches: in their
    language, for their role, with their CSRF token. Never per token.
    """
    async for item in source:
        if isinstance(item, Done):
            yield sse_event("done", await render(item), item.seq)
            return
        yield item


async def only(done: Done) -> AsyncIterator[bytes | Done]:
    """A stream of nothing but its end (one that ended before the watcher came)."""
    yield done


def response(stream: AsyncIterator[bytes]) -> StreamingHttpResponse:
    """An SSE response over an async iterator: never cached, never buffered by a proxy."""
    sent = StreamingHttpResponse(stream, content_type="text/event-stream")
    sent["Cache-Control"] = "no-cache"
    sent["X-Accel-Buffering"] = "no"
    return sent
