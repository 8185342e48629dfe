"""A document's text as passages: split on headings, then paragraphs, each of bounded size.

A passage keeps the heading path it sits under ("Setup › Pairing"), which is indexed with it
and shown with it. Paragraphs are packed together up to ``KNOWLEDGE_PASSAGE_CHARS``; a longer
paragraph is cut at sentence ends (English and Chinese punctuation alike), and a sentence
longer than the limit at the limit. Code fenced with ``` (parsing.py fences every code block
it reads) is one paragraph, blank lines and ``#`` comment lines included, never a heading; a
longer block is cut between lines, each piece fenced again. Characters are counted, not
tokens: a Chinese passage of the same size holds more words, and stays well inside any prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

_HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*#*$")
FENCE = "```"
# After a sentence's end: . ! ? ; followed by a space, or Chinese 。！？； (no space needed).
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")
HEADING_SEPARATOR = " › "
MAX_HEADING_CHARS = 300


@dataclass(frozen=True)
class Chunk:
    heading: str
    text: str


def chunk(text: str, *, size: int | None = None) -> list[Chunk]:
    """The passages of ``text`` (Markdown-style headings, blank-line paragraphs)."""
    size = size or settings.KNOWLEDGE_PASSAGE_CHARS
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []  # (level, title) of the headings we are under
    paragraphs: list[str] = []

    def flush() -> None:
        heading = HEADING_SEPARATOR.join(title for _, title in path)[:MAX_HEADING_CHARS]
        chunks.extend(Chunk(heading, piece) for piece in _pack(paragraphs, size))
        paragraphs.clear()

    body: list[str] = []  # the lines of the paragraph being read
    code: list[str] = []  # the lines of the fenced block being read, fences included

    def end_paragraph() -> None:
        if body:
            paragraphs.append("\n".join(body))
            body.clear()

    for line in text.split("\n"):
        if code:
            code.append(line.rstrip())
            if line.strip() == FENCE:
                paragraphs.append("\n".join(code))
                code.clear()
        elif line.strip().startswith(FENCE):
            end_paragraph()
            code.append(line.strip())
        elif match := _HEADING.match(line.strip()):
            end_paragraph()
            flush()
            level = len(match.group(1))
            path = [(lv, title) for lv, title in path if lv < level]
            path.append((level, match.group(2).strip()))
        elif line.strip():
            body.append(line.rstrip() if body else line.strip())
        else:
            end_paragraph()
    if code:  # a fence never closed: the rest is code
        paragraphs.append("\n".join([*code, FENCE]))
    end_paragraph()
    flush()
    return chunks


def _pack(paragraphs: list[str], size: int) -> list[str]:
    """Paragraphs joined into pieces of at most ``size`` characters."""
    pieces: list[str] = []
    current = ""
    for part in (p for paragraph in paragraphs for p in _split(paragraph, size)):
        joined = f"{current}\n\n{part}" if current else part
        if len(joined) <= size:
            current = joined
        else:
            pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return pieces


def _split(paragraph: str, size: int) -> list[str]:
    """A paragraph as parts of at most ``size`` characters, cut at sentence ends if it can."""
    if len(paragraph) <= size:
        return [paragraph]
    if paragraph.startswith(FENCE):
        return _split_code(paragraph, size)
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > size:  # no sentence end near: cut at the limit
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:size])
            sentence = sentence[size:]
        joined = (
            f"{current} {sentence}" if current and not _cjk_end(current) else current + sentence
        )
        if len(joined) <= size:
            current = joined
        else:
            parts.append(current)
            current = sentence
    if current:
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _split_code(block: str, size: int) -> list[str]:
    """A fenced block as fenced parts of at most ``size`` characters, cut between lines (a
    line longer than a part can hold, at the limit)."""
    room = max(size - 2 * (len(FENCE) + 1), 1)  # what a part holds inside its two fences
    lines = block.split("\n")[1:-1]
    pieces: list[str] = []
    current: list[str] = []
    cut = (whole[i : i + room] for whole in lines for i in range(0, len(whole) or 1, room))
    for line in cut:
        if current and len("\n".join([*current, line])) > room:
            pieces.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        pieces.append("\n".join(current))
    return [f"{FENCE}\n{piece}\n{FENCE}" for piece in pieces if piece.strip()]


def _cjk_end(text: str) -> bool:
    return text[-1:] in "。！？；"
