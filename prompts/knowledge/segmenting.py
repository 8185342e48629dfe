"""Words and Chinese character bigrams: what both search engines index and look up.

Neither PostgreSQL's parser nor SQLite's unicode61 tokenizer segments Chinese: a run of Han
characters is one "word" to both, so 调光 would never match 支持无级调光. Every run of CJK
characters is therefore written as its overlapping character bigrams (一个字 → 一个 个字; a
lone character stays itself) in the text handed to the index, and a query is segmented the
same way, so both databases see the same tokens. Other text is left as it is for the engine's
own tokenizer and English stemmer (PostgreSQL's ``english`` configuration, FTS5's ``porter``).
"""

from __future__ import annotations

import re
from itertools import groupby

# Han (with extension A and compatibility ideographs), kana and Hangul: scripts written
# without spaces between words.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{CJK}]+")
# A query's terms: CJK runs, or words of letters and digits (other scripts included).
_TERM = re.compile(f"[{CJK}]+|[^\\W_]+")
# Words too common to say anything; PostgreSQL's english configuration drops them itself, and
# dropping them before either engine sees them keeps the two rankings alike.
_STOPS = "a an and are as at be by can do does for from how i in is it its my of on or the this to"
STOP_WORDS = frozenset(f"{_STOPS} what when where which who why with you your".split(" "))
MAX_QUERY_TERMS = 64


def bigrams(run: str) -> list[str]:
    """A CJK run as overlapping character pairs (a single character stays itself)."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_text(text: str) -> str:
    """The text as the index stores it: CJK runs replaced by their bigrams, space-separated."""
    return _CJK_RUN.sub(lambda m: f" {' '.join(bigrams(m.group()))} ", text)


def query_terms(query: str) -> list[str]:
    """The distinct terms of a search query, in order: lowercased words (stop words dropped)
    and CJK bigrams. Any term may match (the engines rank passages with more of them first)."""
    terms: list[str] = []
    for match in _TERM.finditer(query.lower()):
        word = match.group()
        parts = bigrams(word) if _CJK_RUN.fullmatch(word) else [word]
        terms += [p for p in parts if p not in STOP_WORDS and p not in terms]
    return terms[:MAX_QUERY_TERMS]


def highlight(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, matched) pairs where a query term occurs: CJK bigrams
    wherever they are (overlapping ones join: 无级 + 级调 + 调光 mark 无级调光), words at a word's
    start (a stemmed match such as lamp → lamps is marked too).

    Pieces are plain text: the template escapes each and wraps matched ones in ``<mark>``.
    """
    marked = [False] * len(text)
    for term in terms:
        if _CJK_RUN.fullmatch(term):
            spans = [m.span() for m in re.finditer(f"(?={re.escape(term)})", text)]
            spans = [(start, start + len(term)) for start, _ in spans]
        else:
            pattern = re.compile(rf"\b{re.escape(term)}\w*", re.IGNORECASE)
            spans = [m.span() for m in pattern.finditer(text)]
        for start, end in spans:
            marked[start:end] = [True] * (end - start)
    pieces, position = [], 0
    for hit, group in groupby(marked):
        length = len(list(group))
        pieces.append((text[position : position + length], hit))
        position += length
    return pieces
