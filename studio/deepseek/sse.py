"""A small, line-based Server-Sent Events decoder.

DeepSeek streams ``data: <json>\\n\\n`` events, ends with ``data: [DONE]`` and, while a request
is queued (and sometimes mid-stream), sends ``: keep-alive`` comment lines. Naive parsers have
crashed on exactly those comments and on comment-only blocks (see the API notes, §10), so this
decoder follows the WHATWG SSE parsing rules for the parts that matter here and yields only
the payload of real ``data`` events.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator

# A line ends at \r\n, \n or \r (all three are legal SSE line endings).
_LINE_END = re.compile(r"\r\n|\r|\n")


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
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    data_lines: list[str] = []
    # Set when a read ended in "\r": a "\n" at the start of the next read belongs to it.
    skip_lf = False

    def feed(line: str) -> str | None:
        """Process one line; return a payload when the line ends an event."""
        if line == "":
            payload = "\n".join(data_lines)
            data_lines.clear()
            return payload or None
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data_lines.append(value)
        return None

    async for chunk in chunks:
        text = decoder.decode(chunk)
        if skip_lf and text:
            if text.startswith("\n"):
                text = text[1:]
            skip_lf = False
        buffer += text
        start = 0
        for match in _LINE_END.finditer(buffer):
            # A "\r" at the very end may be the first half of "\r\n": end the line now and
            # remember to drop the "\n" if it arrives in the next read.
            if match.group() == "\r" and match.end() == len(buffer):
                skip_lf = True
            payload = feed(buffer[start : match.start()])
            start = match.end()
            if payload is not None:
                yield payload
        buffer = buffer[start:]

    buffer += decoder.decode(b"", final=True)
    if buffer:
        feed(buffer)
    payload = feed("")
    if payload is not None:
        yield payload
