"""Word-level diffs of draft versions, readable for English and Chinese prose.

diff-match-patch compares characters; for prose that gives diffs that cut words in half.
Like its own line mode (``diff_linesToChars``), each token is mapped to one private character,
the encoded strings are diffed, and the tokens put back. A token is a word (letters and
digits), a run of whitespace, one punctuation mark, or one CJK character: Chinese has no spaces
between words, so a changed character shows as that character, not the whole sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from diff_match_patch import diff_match_patch
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .markdown_html import render_markdown, sanitize

# CJK ideographs and punctuation, kana, hangul, full-width forms: one token per character.
_CJK = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"  # noqa: E501
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+|\s+|.", re.DOTALL)

EQUAL, DELETE, INSERT = diff_match_patch.DIFF_EQUAL, diff_match_patch.DIFF_DELETE, 1


def tokenize(text: str) -> list[str]:
    """Words, whitespace runs, punctuation marks and single CJK characters, in order."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Change:
    op: int  # EQUAL, DELETE or INSERT
    text: str

    @property
    def kind(self) -> str:
        return {EQUAL: "equal", DELETE: "delete", INSERT: "insert"}[self.op]


@dataclass(frozen=True)
class Diff:
    changes: list[Change]

    @property
    def words_added(self) -> int:
        return sum(_word_count(c.text) for c in self.changes if c.op == INSERT)

    @property
    def words_removed(self) -> int:
        return sum(_word_count(c.text) for c in self.changes if c.op == DELETE)

    @property
    def is_empty(self) -> bool:
        return all(c.op == EQUAL for c in self.changes)

    def inline_html(self) -> SafeString:
        """One text with <del> and <ins> marks (escaped: versions hold model output)."""
        return _html(self.changes, keep={EQUAL, DELETE, INSERT})

    def old_html(self) -> SafeString:
        """The older text with what was removed marked: the left column of side by side."""
        return _html(self.changes, keep={EQUAL, DELETE})

    def new_html(self) -> SafeString:
        """The newer text with what was added marked: the right column."""
        return _html(self.changes, keep={EQUAL, INSERT})

    def old_markdown(self) -> SafeString:
        """``old_html`` rendered as Markdown (headings, lists, emphasis), marks kept."""
        return _rendered(self.changes, keep={EQUAL, DELETE})

    def new_markdown(self) -> SafeString:
        return _rendered(self.changes, keep={EQUAL, INSERT})

    def inline_markdown(self) -> SafeString:
        return _rendered(self.changes, keep={EQUAL, DELETE, INSERT})


def diff_texts(old: str, new: str) -> Diff:
    """A word-level diff of two texts, with semantic clean-up so changes read as phrases."""
    tokens: list[str] = [""]  # index 0 unused, as in diff-match-patch's line mode
    index: dict[str, int] = {}

    def encode(text: str) -> str:
        chars = []
        for token in tokenize(text):
            if token not in index:
                index[token] = len(tokens)
                tokens.append(token)
            chars.append(chr(index[token]))
        return "".join(chars)

    dmp = diff_match_patch()
    dmp.Diff_Timeout = 2.0
    diffs = dmp.diff_main(encode(old), encode(new), False)
    # Clean up on tokens, so merging and shifting can never cut a word in half.
    dmp.diff_cleanupSemantic(diffs)
    dmp.diff_charsToLines(diffs, tokens)  # back from one char per token to the tokens
    return Diff([Change(op, text) for op, text in diffs if text])


def _word_count(text: str) -> int:
    return sum(1 for token in tokenize(text) if not token.isspace() and _is_wordish(token))


def _is_wordish(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


_DEL_CLASS = "rounded-sm bg-red-100 text-red-900 line-through dark:bg-red-950 dark:text-red-200"
_INS_CLASS = "rounded-sm bg-emerald-100 text-emerald-900 no-underline dark:bg-emerald-950 dark:text-emerald-100"  # noqa: E501


def _html(changes: list[Change], *, keep: set[int]) -> SafeString:
    parts = []
    for change in changes:
        if change.op not in keep:
            continue
        text = escape(change.text)
        if change.op == DELETE:
            parts.append(f'<del class="{_DEL_CLASS}">{text}</del>')
        elif change.op == INSERT:
            parts.append(f'<ins class="{_INS_CLASS}">{text}</ins>')
        else:
            parts.append(text)
    return mark_safe("".join(parts))  # noqa: S308 — every piece escaped above


# Rendered diffs: each change is wrapped in private-use marks, the text rendered by the final
# renderer (markdown-it, then nh3), the marks turned into <del>/<ins>, and the result
# sanitized again (which also mends any nesting a mark cut across, e.g. half of a **bold**).
_MARKS = {DELETE: ("\ue000", "\ue001"), INSERT: ("\ue002", "\ue003")}
_TAGS = {
    "\ue000": f'<del class="{_DEL_CLASS}">',
    "\ue001": "</del>",
    "\ue002": f'<ins class="{_INS_CLASS}">',
    "\ue003": "</ins>",
}
# A block's own syntax at a line start stays outside a mark, so the block keeps its kind.
_BLOCK_PREFIX = re.compile(r"[ \t]*(?:(?:#{1,6}|[-*+]|[0-9]{1,9}[.)]|>)[ \t]+)*")


def _rendered(changes: list[Change], *, keep: set[int]) -> SafeString:
    source: list[str] = []
    at_line_start = True
    for change in changes:
        if change.op not in keep:
            continue
        if change.op == EQUAL:
            source.append(change.text)
        else:
            source.append(_marked(change.text, *_MARKS[change.op], at_line_start))
        at_line_start = change.text.endswith("\n")
    html = str(render_markdown("".join(source)))
    for mark, tag in _TAGS.items():  # marks in a link's target come back percent-encoded
        html = html.replace(mark, tag).replace(quote(mark), "")
    return sanitize(html, {"del": {"class"}, "ins": {"class"}})


def _marked(text: str, start: str, end: str, at_line_start: bool) -> str:
    """``text`` with each of its lines' content between ``start`` and ``end``."""
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines):
        prefix = _BLOCK_PREFIX.match(line).group() if number or at_line_start else ""
        content = line[len(prefix) :]
        out.append(f"{prefix}{start}{content}{end}" if content.strip() else line)
    return "\n".join(out)
