"""SSE framing: the exact bytes of a frame, and the escaping of the text it carries."""

from __future__ import annotations

import pytest
from django.utils.html import escape as django_escape

from studio.streams.framing import delta_frames, sse_event


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("one", b"id: 7\nevent: delta\ndata: one\n\n"),
        ("", b"id: 7\nevent: delta\ndata: \n\n"),
        ("a\nb", b"id: 7\nevent: delta\ndata: a\ndata: b\n\n"),
        ("a\r\nb\rc", b"id: 7\nevent: delta\ndata: a\ndata: b\ndata: c\n\n"),
        ("end\n", b"id: 7\nevent: delta\ndata: end\ndata: \n\n"),
        ("\n\n", b"id: 7\nevent: delta\ndata: \ndata: \ndata: \n\n"),
        ("\r\r\n", b"id: 7\nevent: delta\ndata: \ndata: \ndata: \n\n"),
        ("data: x", b"id: 7\nevent: delta\ndata: data: x\n\n"),
        ("世界 é", "id: 7\nevent: delta\ndata: 世界 é\n\n".encode()),
    ],
)
def test_a_frame_has_one_data_line_per_line_of_its_data(data: str, expected: bytes) -> None:
    assert sse_event("delta", data, 7) == expected


def test_a_frame_without_an_id() -> None:
    assert sse_event("done", "<p>\nx</p>") == b"event: done\ndata: <p>\ndata: x</p>\n\n"


TEXTS = ["plain", "<script>alert('x')</script>", 'a & b "c" <d>', "&amp; already", "'\"<>&", ""]


@pytest.mark.parametrize("text", TEXTS)
def test_delta_text_is_escaped_as_django_escapes_it(text: str) -> None:
    (frame,) = delta_frames([("content", text)], 3)
    assert frame == sse_event("delta", str(django_escape(text)), 3)
    assert b"<" not in frame and b"'" not in frame and b'"' not in frame


def test_reasoning_is_escaped_too_and_runs_keep_their_order() -> None:
    items = [("content", "<a>"), ("content", "&"), ("reasoning", "'r'"), ("content", "b")]
    assert delta_frames(items, 14) == [
        b"id: 12\nevent: delta\ndata: &lt;a&gt;&amp;\n\n",
        b"id: 13\nevent: reasoning\ndata: &#x27;r&#x27;\n\n",
        b"id: 14\nevent: delta\ndata: b\n\n",
    ]


def test_a_batch_of_one_item_is_the_frame_of_its_kind() -> None:
    """A single token (most batches) takes a shorter way than a run; blocks and places in
    line keep their own frames, sent as they are."""
    assert delta_frames([("reasoning", "<r>\n")], 5) == [
        b"id: 5\nevent: reasoning\ndata: &lt;r&gt;\ndata: \n\n"
    ]
    assert delta_frames([("block", "3\n<p>x</p>")], 6) == [
        b"id: 6\nevent: block\ndata: 3\ndata: <p>x</p>\n\n"
    ]
    assert delta_frames([("queued", "2")], 7) == [b"id: 7\nevent: queued\ndata: 2\n\n"]
