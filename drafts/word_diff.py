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

from diff_match_patch import diff_match_patch
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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
