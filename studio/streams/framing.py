"""SSE framing: one small helper for every frame the studio's streams send."""

from __future__ import annotations

from django.utils.html import escape

HEARTBEAT = b": heartbeat\n\n"


def sse_event(event: str, data: str, event_id: int | None = None) -> bytes:
    """One SSE frame; multi-line data becomes several ``data:`` lines, as the spec requires."""
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    normalized = data.replace("\r\n", "\n").replace("\r", "\n")
    lines.extend(f"data: {line}" for line in normalized.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def delta_frames(new: list[tuple[str, str]], seq: int) -> list[bytes]:
    """The SSE frames for a batch of items ending at sequence number ``seq``.

    Only new, HTML-escaped text is sent: the browser appends it, so the cost per frame does
    not grow with the text. Blocks (``events.Block``: HTML their owner sanitized) go out as
    they are, after the batch's text, which holds the characters they stand for; several in
    one batch make one frame. Only the batch's last frame carries the id, so a reconnect
    resumes after all of it.
    """
    reasoning = "".join(text for kind, text in new if kind == "reasoning")
    content = "".join(text for kind, text in new if kind == "content")
    blocks = [text.partition("\n") for kind, text in new if kind == "block"]
    frames = []
    if reasoning:
        last = not content and not blocks
        frames.append(sse_event("reasoning", escape(reasoning), seq if last else None))
    if content:
        frames.append(sse_event("delta", escape(content), None if blocks else seq))
    if blocks:
        length = sum(int(count) for count, _, _ in blocks)
        html = "".join(html for _, _, html in blocks)
        frames.append(sse_event("block", f"{length}\n{html}", seq))
    return frames
