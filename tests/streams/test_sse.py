"""The HTTP side of a stream: deltas pass through, the end is rendered once for the viewer."""

import pytest
from django.test import RequestFactory

from studio.streams import Done, frames, last_event_id, only, response, sse_event


async def source(*items):
    for item in items:
        yield item


async def test_the_end_is_rendered_once_for_the_viewer_never_per_token():
    renders: list[Done] = []

    async def render(done: Done) -> str:
        renders.append(done)
        return "<section>mine\nsecond line</section>"

    deltas = [sse_event("delta", f"token {n}", n) for n in range(1, 51)]
    end = Done("done", {"draft": 3}, seq=50)

    sent = [frame async for frame in frames(source(*deltas, end, b"after the end"), render)]

    assert sent[:-1] == deltas
    assert sent[-1] == b"id: 50\nevent: done\ndata: <section>mine\ndata: second line</section>\n\n"
    assert renders == [end]  # once, at the end; nothing after it is sent


async def test_an_end_without_a_position_has_no_id():
    async def render(done: Done) -> str:
        return ""

    assert [frame async for frame in frames(only(Done("cleared")), render)] == [
        b"event: done\ndata: \n\n"
    ]


@pytest.mark.parametrize(
    ("header", "after", "expected"),
    [
        ("7", None, 7),
        (None, "12", 12),
        ("3", "12", 3),  # the browser's reconnect wins
        ("x1", None, 0),
        ("²", None, 0),
        (str(2**63), None, 0),
        (None, None, 0),
    ],
)
def test_a_watcher_resumes_after_its_last_event_id(header, after, expected):
    headers = {"Last-Event-ID": header} if header is not None else {}
    query = {"after": after} if after is not None else {}
    request = RequestFactory().get("/events/", query, headers=headers)

    assert last_event_id(request) == expected


def test_the_response_is_never_cached_nor_buffered():
    sent = response(source(b": heartbeat\n\n"))

    assert sent["Content-Type"] == "text/event-stream"
    assert sent["Cache-Control"] == "no-cache" and sent["X-Accel-Buffering"] == "no"
    assert sent.is_async
