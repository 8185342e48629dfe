"""Streamed Markdown, one finished block at a time: what a running generation shows formatted
before it ends (docs/decisions/0013-markdown-blocks-while-streaming.md).

The runner feeds each delta of the answer to a ``BlockSplitter``; when a top-level block
(paragraph, heading, list, quote, table, code fence) can no longer change, it comes back as a
``Block``: its sanitized HTML, rendered once by ``render_markdown`` (the final render), and
how many characters of the answer it stands for. The text after the finished blocks stays
open and is shown as escaped text until its own block closes.

CommonMark's block structure is built line by line and a block, once closed, never opens
again; so only complete lines are parsed, and only the open text (from the first unfinished
block on), only when a line ends, or when a line starts after a blank one that left a list
or an indented code block open (its first character decides whether that block has closed:
docs/decisions/0061-a-new-line-looked-at-after-a-blank-one.md): the cost per token does not
grow with the answer.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from studio.streams import Block

from .citations import Citations, link
from .markdown_html import render_markdown

# The final render's block rules (tables on, raw HTML off), without the inline pass.
_blocks = MarkdownIt("commonmark", {"html": False}).enable(["table"]).disable("inline")

_CLOSED_BY_BLANK_LINE = {"paragraph_open", "table_open", "blockquote_open", "fence"}
_DONE_AT_LINE_END = {"heading_open", "hr"}
# After a blank line, a line that starts with none of these can continue no list or code
# block: they can only continue one with an indented line or another item.
_MAY_CONTINUE = frozenset(" \t-+*0123456789")
# Whether a block of these types has finished is known once its last line has ended.
_KNOWN_AT_LINE_END = _CLOSED_BY_BLANK_LINE | _DONE_AT_LINE_END


class BlockSplitter:
    """The finished blocks of a Markdown text that arrives in pieces."""

    def __init__(self, citations: Citations | None = None) -> None:
        # A grounded generation's: its [n] markers are linked as the final panel links them.
        self.citations = citations
        self._pieces: list[str] = []  # the open text: after the last finished block
        self._line_start = True  # the open text ends a line (or is empty)
        # The last parse left a list or an indented code block open after a blank line: the
        # first character of the next line decides whether it has closed (``_finished``).
        self._next_line_decides = False

    def feed(self, text: str) -> list[Block]:
        """Add ``text``; the blocks it finished, in order (at most one ``Block``)."""
        if not text:
            return []
        self._pieces.append(text)
        looked, self._line_start = self._line_start, text.endswith("\n")
        if "\n" not in text and not (looked and self._next_line_decides):
            return []  # the same line goes on, or a new one no open block waits for
        return self._split()

    def close(self) -> list[Block]:
        """The end of the text: whatever is open is finished now."""
        source, self._pieces = "".join(self._pieces), []
        return [self._block(source)] if source else []

    def _split(self) -> list[Block]:
        self._next_line_decides = False
        source = "".join(self._pieces)
        cut = source.rfind("\n") + 1
        if not cut:
            return []
        complete, partial = source[:cut], source[cut:]
        tops = [t for t in _blocks.parse(complete) if t.level == 0 and t.nesting >= 0 and t.map]
        if not tops:
            return []
        lines = complete.splitlines(keepends=True)
        done_lines = 0
        for token, following in zip(tops, [*tops[1:], None], strict=True):
            if following is not None:
                done_lines = following.map[0]
            elif _finished(token, lines, partial):
                done_lines = len(lines)
            else:
                self._next_line_decides = _next_line_decides(token, lines)
        if not done_lines:
            return []
        finished = "".join(lines[:done_lines])
        self._pieces = [source[len(finished) :]]
        return [self._block(finished)]

    def _block(self, source: str) -> Block:
        html = link(str(render_markdown(source)), self.citations)
        return Block(html=str(html), length=len(source))


def _next_line_decides(token: Token, lines: list[str]) -> bool:
    """Whether the first character of the line after ``lines`` may finish their last block,
    ``token``, open now: a list or an indented code block after a blank line (``_finished``)."""
    return token.type not in _KNOWN_AT_LINE_END and not lines[-1].strip()


def _finished(token: Token, lines: list[str], partial: str) -> bool:
    """Whether the last block of the complete ``lines`` is finished, with ``partial`` (the
    line being written) after it."""
    if token.type in _DONE_AT_LINE_END:
        return True
    assert token.map is not None
    if token.type in _CLOSED_BY_BLANK_LINE:
        return token.map[1] < len(lines)  # a line follows that is not its own: a blank one
    # A list or an indented code block: closed by a line at the margin, after a blank line.
    return not lines[-1].strip() and bool(partial) and partial[0] not in _MAY_CONTINUE
