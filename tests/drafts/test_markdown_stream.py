"""Streamed Markdown: each top-level block comes back once, when it can no longer change,
rendered exactly as the final render renders it; whatever the pieces the text arrives in."""

import pytest

from drafts import markdown_stream
from drafts.markdown_html import render_markdown
from drafts.markdown_stream import BlockSplitter
from studio.deepseek.simulator.pen import tokenize  # an answer in the simulator's tokens

ANSWER = (
    "# Launch plan\n\n"
    "First paragraph with **bold** and a [link](https://example.com).\nIts second line.\n\n"
    "- one\n- two\n  continued\n\n- three, loose now\n\n"
    "```python\nx = 1\n\n\ny = 2  # blank lines inside the fence\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "> quoted\nlazily continued\n\n"
    "## 中文小节\n\n这是一个中文段落，包含**粗体**。\n\n"
    "1. first\n2. second\n\n"
    "The last paragraph, closed only by the end."
)


def split(text: str, step: int) -> list[tuple[int, str]]:
    """(characters, HTML) of each block, feeding ``text`` ``step`` characters at a time."""
    splitter = BlockSplitter()
    blocks = []
    for start in range(0, len(text), step):
        blocks += splitter.feed(text[start : start + step])
    blocks += splitter.close()
    return [(block.length, block.html) for block in blocks]


def sources(text: str, step: int) -> list[str]:
    parts, start = [], 0
    for length, _html in split(text, step):
        parts.append(text[start : start + length])
        start += length
    return parts


@pytest.mark.parametrize("step", [1, 2, 5, 17, 10_000])
def test_the_blocks_stand_for_the_whole_text_and_render_as_the_final_render(step):
    blocks = split(ANSWER, step)
    assert sum(length for length, _ in blocks) == len(ANSWER)
    assert "".join(html for _, html in blocks) == render_markdown(ANSWER)


@pytest.mark.parametrize("step", [1, 3, 8])
def test_every_block_comes_once_whatever_the_pieces(step):
    whole = [html for _, html in split(ANSWER, 1)]
    assert [html for _, html in split(ANSWER, step)] == whole  # blank lines may go either way
    assert [source.strip() for source in sources(ANSWER, step)] == [
        source.strip() for source in sources(ANSWER, 1)
    ]
    assert whole[0] == "<h1>Launch plan</h1>\n"
    assert len(whole) == 10  # heading, paragraph, list, fence, table, quote, h2, p, list, p


def test_a_fence_with_blank_lines_stays_open_until_it_closes():
    splitter = BlockSplitter()
    assert splitter.feed("```\ncode\n\n\nmore code\n\nstill code\n") == []
    assert splitter.feed("```\n") == []  # closed, but a fence is known closed at the next line
    (block,) = splitter.feed("\n")
    assert "<pre><code>code\n\n\nmore code\n\nstill code\n</code></pre>" in block.html


def test_a_list_goes_on_across_blank_lines_and_closes_at_the_margin():
    splitter = BlockSplitter()
    assert splitter.feed("- a\n- b\n\n") == []
    assert splitter.feed("  more of b\n\n- c\n\n") == []  # still the same (loose) list
    assert splitter.feed("2") == []  # a digit may start an item: wait for the line
    assert splitter.close()[0].html.count("<li>") == 3
    splitter = BlockSplitter()
    splitter.feed("- a\n- b\n\n")
    (block,) = splitter.feed("T")  # at the margin and no marker: the list is over
    assert block.length == len("- a\n- b\n\n")
    assert block.html.count("<li>") == 2


def test_a_heading_is_finished_at_the_end_of_its_line():
    splitter = BlockSplitter()
    assert splitter.feed("## Head") == []
    (block,) = splitter.feed("ing\nNext")
    assert block.html == "<h2>Heading</h2>\n"
    assert block.length == len("## Heading\n")


def test_a_table_is_one_block():
    splitter = BlockSplitter()
    assert splitter.feed("| a | b |\n") == []
    assert splitter.feed("|---|---|\n| 1 | 2 |\n| 3 | 4 |\n") == []
    (block,) = splitter.feed("\n")
    assert block.html.count("<tr>") == 3


def test_a_paragraph_is_not_closed_by_a_line_that_only_looks_like_a_heading():
    splitter = BlockSplitter()
    assert splitter.feed("para\n#") == []  # "#" could be "#hashtag", a continuation
    assert splitter.feed("hashtag\n") == []
    assert "<p>para\n#hashtag</p>" in splitter.close()[0].html


def test_cjk_text_counts_characters_not_bytes():
    text = "# 标题\n\n第一段。\n\n第二段，没有结束"
    assert [s.strip() for s in sources(text, 1)] == ["# 标题", "第一段。", "第二段，没有结束"]
    assert sum(length for length, _ in split(text, 1)) == len(text) == 20
    assert split(text, 1)[0][1] == "<h1>标题</h1>\n"


def test_a_block_closed_only_at_the_end_comes_with_close():
    splitter = BlockSplitter()
    assert splitter.feed("Only one paragraph, never followed by a blank line.") == []
    (block,) = splitter.close()
    assert block.html == "<p>Only one paragraph, never followed by a blank line.</p>\n"
    assert splitter.close() == []


def test_hostile_markdown_is_sanitized_as_in_the_final_render():
    text = (
        '<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror="alert(1)">'
        "\n\n"
    )
    html = "".join(html for _, html in split(text, 4))
    assert "<script" not in html and "<img" not in html
    assert "href" not in html  # the javascript: link is left as text
    assert html == render_markdown(text)


def test_only_the_open_text_is_parsed_and_only_when_a_line_ends(monkeypatch):
    parsed: list[int] = []
    real = markdown_stream._blocks.parse

    def parse(source: str):
        parsed.append(len(source))
        return real(source)

    monkeypatch.setattr(markdown_stream._blocks, "parse", parse)
    splitter = BlockSplitter()
    for _ in range(200):
        splitter.feed("word ")  # one long line: nothing can have closed
    assert parsed == []
    splitter.feed("\n\n")
    for n in range(300):
        splitter.feed(f"Paragraph {n} of some ")
        splitter.feed("length.\n\n")
    assert len(parsed) == 1 + 300  # once per line end (a new line with no end: no parse)
    assert max(parsed[1:]) < 40  # never the whole text: only the block being written


LISTS_AND_CODE = [
    ANSWER,
    "- a\n- b\n\n- c\n\nafter the list\n",
    "1. one\n2. two\n\n   more of two\n\n3. three\nlazy line\n\n# heading\n",
    "    indented code\n\n    more code\n\nA paragraph after it.\n",
    "- a\n\n  - nested\n\n- b\n* another list\n\n10. ten\n",
]


def blocks_from(pieces: list[str]) -> list[tuple[int, str]]:
    splitter = BlockSplitter()
    blocks = [block for piece in pieces for block in splitter.feed(piece)] + splitter.close()
    return [(block.length, block.html) for block in blocks]


@pytest.mark.parametrize("text", LISTS_AND_CODE)
def test_a_new_line_is_looked_at_only_when_it_may_close_a_block(text, monkeypatch):
    """A line's first piece is parsed for only after a blank line that leaves a list or an
    indented code block open: the blocks are those of a splitter that looks at every line."""
    cuts = [tokenize(text)] + [
        [text[i : i + step] for i in range(0, len(text), step)] for step in (1, 2, 3, 5)
    ]
    found = [blocks_from(pieces) for pieces in cuts]
    monkeypatch.setattr(markdown_stream, "_next_line_decides", lambda token, lines: True)
    assert found == [blocks_from(pieces) for pieces in cuts]
    assert sum(length for length, _ in found[0]) == len(text)


def test_a_list_s_items_are_parsed_for_once_per_line_end(monkeypatch):
    parsed: list[str] = []
    real = markdown_stream._blocks.parse

    def parse(source: str):
        parsed.append(source)
        return real(source)

    monkeypatch.setattr(markdown_stream._blocks, "parse", parse)
    splitter = BlockSplitter()
    items = "".join(f"{n}. Item number {n} of the list.\n" for n in range(1, 6))
    assert [b for piece in tokenize(items + "\n") for b in splitter.feed(piece)] == []
    assert len(parsed) == 5  # each item's line end (the last one's with the blank line)
    (block,) = splitter.feed("After")  # after the blank line the next line decides: a look
    assert len(parsed) == 6
    assert block.html.count("<li>") == 5
