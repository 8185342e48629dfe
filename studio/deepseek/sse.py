"""A small, line-based Server-Sent Events decoder.

DeepSeek streams ``data: <json>\\n\\n`` events, ends with ``data: [DONE]`` and, while a request
is queued (and sometimes mid-stream), sends ``: keep-alive`` comment lines. Naive parsers have
crashed on exactly those comments and on comment-only blocks (see the API notes, §10), so this
decoder follows the WHATWG SSE parsing rules for the parts that matter here and yields only
the payload of real ``data`` events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

_COLON = ord(":")


async def iter_sse_data(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Yield the ``data`` payload of each SSE event read from ``chunks``.

    * Several ``data:`` lines in one event are joined with ``"\\n"``; one space after the colon
      is stripped.
    * Comment lines (``: keep-alive``) and ``event:``/``id:``/``retry:`` fields are ignored, and
      a block without data yields nothing.
    * Lines, ``\\r\\n`` pairs and multi-byte UTF-8 characters may be split across reads.
    * ``"[DONE]"`` is yielded like any other payload: the caller decides what it means.
    * A final event that lacks its terminating blank line is still yielded, because a server
      that closes right after ``data: [DONE]`` has clearly finished that event.

    Lines are split as bytes and only an event's data is decoded (UTF-8, an invalid sequence
    replaced): a line end is one byte that is never part of a multi-byte character, so no
    incremental decoder is needed, and a read of one event costs one split
    (docs/decisions/0053-the-sse-decoder-splits-bytes.md).
    """
    pending = b""  # the read's bytes after its last line end: the start of the next line
    data: list[bytes] = []  # the event's data lines so far
    # Set when a read ended in "\r": a "\n" at the start of the next read belongs to it.
    skip_lf = False
    async for chunk in chunks:
        if skip_lf and chunk:
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
            skip_lf = False
        if b"\r" in chunk:  # "\r\n" and a lone "\r" end a line as "\n" does
            skip_lf = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            pending += chunk
            continue
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for payload in _payloads(lines, data):
            yield payload
    for payload in _payloads([pending, b""] if pending else [b""], data):
        yield payload


def _payloads(lines: list[bytes], data: list[bytes]) -> Iterator[str]:
    """The payloads of the events these whole lines end, ``data`` holding an event's data
    lines from one call to the next (WHATWG's rules for the fields used here)."""
    for line in lines:
        if not line:  # a blank line ends the event
            if data:
                payload = b"\n".join(data)
                data.clear()
                if payload:
                    yield payload.decode("utf-8", errors="replace")
        elif line[0] != _COLON:  # not a comment
            name, colon, value = line.partition(b":")
            if name == b"data":
                data.append(value[1:] if colon and value[:1] == b" " else value)
