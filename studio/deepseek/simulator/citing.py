"""The passages a request gives the model, and the facts an answer quotes from them.

A grounded request carries a numbered ``<sources>`` block (in the system prompt or a user
message, where the template put ``{{ knowledge }}``, else at the end of the last user message)
and a line asking for citations::

    <sources>
    [1] Lumen lamp product sheet (v2)
    The Lumen lamp dims steplessly from 1 % to 100 %.

    [2] Lumen lamp product sheet (v2)
    Battery life is 40 hours at 30 % brightness.
    </sources>
    Use only the sources above for facts. Cite each fact with its source number in square
    brackets, like [1].

:func:`read_sources` takes the block (and that line) out of the text, so the rest of the
request is read as before, and returns the passages. :class:`Quotes` deals their sentences
in the answer's language, each marked with its passage's number (``… 100 % [1].``); a number
that was not given is never written, and markers inside a passage's own text are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK_RE = re.compile(r"<sources>[ \t]*\n?(.*?)</sources>[ \t]*", re.S)
# The instruction line right after the block: it shows the marker it asks for ("like [1]").
_INSTRUCTION_RE = re.compile(r"\n?[^\n]*\[1\][^\n]*(?:\n|\Z)")
_HEADER_RE = re.compile(r"^\[(\d{1,3})\] +(.+?)\s*$")
_VERSION_RE = re.compile(r"\s*\(v\d+\)$")
_MARKER_RE = re.compile(r"\s?\[\d{1,4}\]")
_LIST_MARK_RE = re.compile(r"^\s*(?:[-*•·]|\d{1,3}[.)、])\s+|^\s*#{1,6}\s+")
_EN_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[^\s])")
_ZH_SENTENCE_RE = re.compile(r"(?<=[。！？])")
_END_RE = re.compile(r"[.!?。！？]+[\"'”’）)]*$")
# A line that is a command, not a sentence: lower-case ASCII words, no sentence end
# ("lumen dim 40 --fade 2s"). A fenced block is taken whole.
_COMMAND_RE = re.compile(r"^\$?\s*[a-z][\w.-]*(?: +[^\s]+){1,12}$")
_FENCE_RE = re.compile(r"```[\w+-]*\n(.*?)\n```", re.S)
_ZH_LETTER_RE = re.compile(r"[\u4e00-\u9fff]")
_EN_LETTER_RE = re.compile(r"[A-Za-z]")


def _chinese(text: str) -> bool:
    """As brief.is_chinese (which imports this module): a third of the letters Chinese."""
    han, latin = len(_ZH_LETTER_RE.findall(text)), len(_EN_LETTER_RE.findall(text))
    return han * 3 >= han + latin > 0


@dataclass(frozen=True)
class Passage:
    """One entry of the block: ``[number] title (vN)``, then its text."""

    number: int
    title: str
    text: str


@dataclass(frozen=True)
class Fact:
    """A sentence quoted from passage ``number`` (without a marker)."""

    text: str
    number: int

    def cited(self) -> str:
        """The sentence with its marker before the sentence's end: ``… 100 % [1].``"""
        end = _END_RE.search(self.text)
        body = self.text[: end.start()] if end else self.text
        space = "" if _ZH_LETTER_RE.search(body[-1:]) else " "
        return f"{body}{space}[{self.number}]{end.group() if end else ''}"


def read_sources(text: str) -> tuple[list[Passage], str]:
    """The passages of ``text``'s ``<sources>`` blocks, and ``text`` without the blocks and
    their instruction lines. Entries are numbered 1, 2, 3… in order: a line like ``[7] …``
    inside a passage, out of that order, is passage text, not a new entry."""
    if "<sources>" not in text:
        return [], text
    passages: list[Passage] = []
    kept: list[str] = []
    at = 0
    for found in _BLOCK_RE.finditer(text):
        kept.append(text[at : found.start()])
        rest = _INSTRUCTION_RE.match(text, found.end())
        at = rest.end() if rest else found.end()
        numbers = {p.number for p in passages}
        passages += [p for p in _entries(found.group(1)) if p.number not in numbers]
    kept.append(text[at:])
    return passages, re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip()


def _entries(block: str) -> list[Passage]:
    entries: list[tuple[int, str, list[str]]] = []
    for line in block.split("\n"):
        header = _HEADER_RE.match(line)
        if header and int(header.group(1)) == len(entries) + 1:
            entries.append((len(entries) + 1, _VERSION_RE.sub("", header.group(2)), []))
        elif entries:
            entries[-1][2].append(line)
    return [Passage(n, title, "\n".join(lines).strip()) for n, title, lines in entries]


def sentences(passage: Passage, chinese: bool) -> list[str]:
    """The passage's whole sentences in the answer's language, list marks and markers of its
    own taken off; commands, headings without a sentence end and short scraps are left out."""
    found: list[str] = []
    text = _FENCE_RE.sub("", passage.text)
    for line in text.splitlines():
        line = _MARKER_RE.sub("", _LIST_MARK_RE.sub("", line)).strip()
        splitter = _ZH_SENTENCE_RE if _ZH_LETTER_RE.search(line) else _EN_SENTENCE_RE
        for sentence in (s.strip() for s in splitter.split(line)):
            if (
                _END_RE.search(sentence)
                and (len(_ZH_LETTER_RE.findall(sentence)) >= 5 if chinese else len(sentence) >= 16)
                and _chinese(sentence) == chinese
            ):
                found.append(sentence)
    return found


def commands(passage: Passage) -> list[str]:
    """Command lines the passage shows: a fenced block's lines, or lines such as
    ``lumen dim 40 --fade 2s`` standing alone (Markdown sources lose their fences)."""
    fenced = [line for block in _FENCE_RE.findall(passage.text) for line in block.splitlines()]
    alone = [
        line.strip()
        for line in _FENCE_RE.sub("", passage.text).splitlines()
        if _COMMAND_RE.match(line.strip()) and line.isascii() and len(line) <= 100
    ]
    return [_MARKER_RE.sub("", line).rstrip() for line in [*fenced, *alone] if line.strip()]


class Quotes:
    """The facts an answer may state, dealt one passage after another (1, 2, 3, 1, 2…) so
    that every passage given gets cited before any is cited twice; each fact once."""

    def __init__(self, passages: list[Passage], chinese: bool) -> None:
        self.chinese = chinese
        self.passages = passages
        per_passage = [[Fact(s, p.number) for s in sentences(p, chinese)] for p in passages]
        depth = max((len(facts) for facts in per_passage), default=0)
        self.facts = [f[i] for i in range(depth) for f in per_passage if i < len(f)]

    def __bool__(self) -> bool:
        return bool(self.facts)

    def __len__(self) -> int:
        return len(self.facts)

    def next(self) -> str | None:
        """The next fact, cited; None once every fact has been used."""
        return self.facts.pop(0).cited() if self.facts else None

    def take(self, count: int) -> list[str]:
        return [fact for _ in range(count) if (fact := self.next())]

    def about(self, topic: str) -> str | None:
        """The unused fact that shares most with ``topic`` (a feature: "USB-C charging"),
        else the next one."""
        if not self.facts:
            return None
        wanted = _terms(topic)
        best = max(self.facts, key=lambda f: len(wanted & _terms(f.text)))
        if not wanted & _terms(best.text):
            best = self.facts[0]
        self.facts.remove(best)
        return best.cited()

    def example(self) -> tuple[list[str], int] | None:
        """Up to four command lines from the first passage that shows any, and its number."""
        for passage in self.passages:
            if lines := commands(passage):
                return lines[:4], passage.number
        return None


def _terms(text: str) -> set[str]:
    """Word stems (English) and character pairs (Chinese) to compare a topic with a fact."""
    lowered = text.lower()
    stems = {w[:5] for w in re.findall(r"[a-z0-9][a-z0-9-]{2,}", lowered)}
    han = "".join(_ZH_LETTER_RE.findall(lowered))
    return stems | {han[i : i + 2] for i in range(len(han) - 1)}
