"""The SSE decoder: keep-alives, split reads, line endings, multi-line data, [DONE]."""

import asyncio
import re
from collections.abc import AsyncIterator, Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.deepseek.sse import iter_sse_data


async def _chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def decode(parts: Iterable[bytes]) -> list[str]:
    return [data async for data in iter_sse_data(_chunks(parts))]


STREAM = (
    ': keep-alive\n\ndata: {"a":1}\n\n: keep-alive\n\n'
    'data: {"b":"我们"}\n\n: keep-alive\n\ndata: [DONE]\n\n'
).encode()
EXPECTED = ['{"a":1}', '{"b":"我们"}', "[DONE]"]


@pytest.mark.asyncio
async def test_keepalives_anywhere_are_ignored() -> None:
    assert await decode([STREAM]) == EXPECTED


@pytest.mark.asyncio
async def test_comment_only_blocks_yield_nothing() -> None:
    assert await decode([b": keep-alive\n\n: keep-alive\n\n\n\n"]) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("cut", range(1, len(STREAM)))
async def test_split_at_every_byte_position(cut: int) -> None:
    assert await decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED


@pytest.mark.asyncio
async def test_one_byte_at_a_time() -> None:
    assert await decode(STREAM[i : i + 1] for i in range(len(STREAM))) == EXPECTED


@pytest.mark.asyncio
async def test_multibyte_utf8_split_across_reads() -> None:
    raw = "data: 我\n\n".encode()
    assert await decode(raw[i : i + 1] for i in range(len(raw))) == ["我"]


@pytest.mark.asyncio
@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
async def test_line_endings(eol: str) -> None:
    raw = f": keep-alive{eol}{eol}data: one{eol}{eol}data: two{eol}{eol}".encode()
    assert await decode([raw]) == ["one", "two"]
    assert await decode(raw[i : i + 1] for i in range(len(raw))) == ["one", "two"]


@pytest.mark.asyncio
async def test_crlf_split_between_cr_and_lf() -> None:
    # The "\n" of a "\r\n" pair arriving in the next read must not count as a blank line.
    assert await decode([b"data: a\r", b"\ndata: b\r\n\r\n"]) == ["a\nb"]


@pytest.mark.asyncio
async def test_multiline_data_joined_with_newline() -> None:
    assert await decode([b"data: line 1\ndata: line 2\ndata:line 3\n\n"]) == [
        "line 1\nline 2\nline 3"
    ]


@pytest.mark.asyncio
async def test_only_one_space_after_colon_is_stripped() -> None:
    assert await decode([b"data:  two spaces\n\n"]) == [" two spaces"]


@pytest.mark.asyncio
async def test_other_fields_are_ignored() -> None:
    raw = b"event: message\nid: 7\nretry: 0\ndata: x\n\nevent: ping\n\n"
    assert await decode([raw]) == ["x"]


@pytest.mark.asyncio
async def test_done_is_yielded_and_final_event_without_blank_line_kept() -> None:
    assert await decode([b"data: 1\n\ndata: [DONE]"]) == ["1", "[DONE]"]


@pytest.mark.asyncio
async def test_incomplete_utf8_at_end_does_not_crash() -> None:
    assert await decode([b"data: \xe6\x88\n\n"]) == ["\ufffd"]


@pytest.mark.asyncio
async def test_a_lone_cr_before_a_crlf_is_a_line_end_of_its_own() -> None:
    # "\r" then "\r\n": two line ends, so a blank line that ends the first event.
    assert await decode([b"data: a\r\r\ndata: b\n\n"]) == ["a", "b"]
    assert await decode([b"data: a\r", b"", b"\r\ndata: b\r", b"\n\r\n"]) == ["a", "b"]


@pytest.mark.asyncio
async def test_an_empty_data_field_alone_is_no_event_but_two_are_a_line_break() -> None:
    assert await decode([b"data:\n\ndata\n\ndata:\ndata:\n\n"]) == ["\n"]


def _reference(raw: bytes) -> list[str]:
    """The rules applied to the whole stream at once: decoded first, split at every line end
    (``\\r\\n``, ``\\r``, ``\\n``), then the fields, and the end of the stream ends an event."""
    payloads, data = [], []
    for line in [*re.split(r"\r\n|\r|\n", raw.decode("utf-8", errors="replace")), ""]:
        if not line:
            if payload := "\n".join(data):
                payloads.append(payload)
            data = []
        elif not line.startswith(":"):
            name, colon, value = line.partition(":")
            if name == "data":
                data.append(value[1:] if colon and value.startswith(" ") else value)
    return payloads


# Fields, comments, line ends and text; a character split in two ("我" is e6 88 91) as well as
# whole, and a lone first byte.
PIECES = [b"data: ", b"data:", b"data", b": keep-alive", b"id: 7", b"x", b" ", b"\r", b"\n"]
PIECES += [b"\r\n", "我".encode(), b"\xe6\x88", b"\x91", b"\xe6"]


@given(st.lists(st.tuples(st.sampled_from(PIECES), st.booleans()), max_size=40))
def test_any_stream_cut_anywhere_decodes_as_the_whole_stream_read_at_once(
    pieces: list[tuple[bytes, bool]],
) -> None:
    """Reads cut anywhere (between a "\\r" and its "\\n", inside a character) give what the
    rules give for the stream decoded whole: lines are split before anything is decoded."""
    reads, read = [], b""
    for piece, cut_after in pieces:
        read += piece
        if cut_after:
            reads, read = [*reads, read], b""
    reads.append(read)
    assert asyncio.run(decode(reads)) == _reference(b"".join(reads))
