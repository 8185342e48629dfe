"""SSE framing: one small helper for every frame the studio's streams send."""

from __future__ import annotations

from html import escape
from itertools import groupby

HEARTBEAT = b": heartbeat\n\n"
_TEXT_EVENTS = {"content": "delta", "reasoning": "reasoning"}  # a text item's frame


def sse_event(event: str, data: str, event_id: int | None = None) -> bytes:
    """One SSE frame; multi-line data becomes several ``data:`` lines, as the spec requires
    (each line break, ``\\r\\n``, ``\\r`` or ``\\n``, starts the next one)."""
    head = f"event: {event}\n" if event_id is None else f"id: {event_id}\nevent: {event}\n"
    lines = data.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\ndata: ")
    return f"{head}data: {lines}\n\n".encode()


def delta_frames(new: list[tuple[str, str]], seq: int) -> list[bytes]:
    """The SSE frames for a batch of items ending at sequence number ``seq``.

    Only new, HTML-escaped text is sent (``html.escape``: Django's ``escape`` without its
    lazy-string wrapper): the browser appends it, so the cost per frame does not grow with
    the text. Blocks (``events.Block``: HTML their owner sanitized) go out as
    they are, after the text that holds the characters they stand for. Frames follow the
    items' order, one per run of items of one kind, and each carries the sequence number of
    its own last item: a connection cut between two frames resumes after exactly what it
    received, never repeating text or skipping a block. A run of places in line
    (``events.Queued``) is one ``queued`` frame with the latest.
    """
    if len(new) == 1 and (event := _TEXT_EVENTS.get(new[0][0])):  # a token, as most batches
        return [sse_event(event, escape(new[0][1]), seq)]
    frames = []
    first = seq - len(new) + 1
    for kind, run in groupby(enumerate(new, start=first), key=lambda item: item[1][0]):
        items = list(run)
        last = items[-1][0]
        if kind == "block":
            blocks = [text.partition("\n") for _, (_, text) in items]
            length = sum(int(count) for count, _, _ in blocks)
            html = "".join(html for _, _, html in blocks)
            frames.append(sse_event("block", f"{length}\n{html}", last))
        elif kind == "queued":  # a place in line: only the latest counts
            frames.append(sse_event("queued", items[-1][1][1], last))
        else:
            text = "".join(text for _, (_, text) in items)
            frames.append(sse_event(_TEXT_EVENTS[kind], escape(text), last))
    return frames
