"""A document's text as passages: split on headings, then paragraphs, each of bounded size.

A passage keeps the heading path it sits under ("Setup › Pairing"), which is indexed with it
and shown with it. Paragraphs are packed together up to ``KNOWLEDGE_PASSAGE_CHARS``; a longer
paragraph is cut at sentence ends (English and Chinese punctuation alike), and a sentence
longer than the limit at the limit. Characters are counted, not tokens: a Chinese passage of
the same size holds more words, and stays well inside any prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

_HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*#*$")
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

    for block in re.split(r"\n\s*\n", text):
        lines = block.strip().split("\n")
        body: list[str] = []
        for line in lines:
            if match := _HEADING.match(line.strip()):
                if body:
                    paragraphs.append("\n".join(body))
                    body = []
                flush()
                level = len(match.group(1))
                path = [(lv, title) for lv, title in path if lv < level]
                path.append((level, match.group(2).strip()))
            elif line.strip():
                body.append(line.rstrip())
        if body:
            paragraphs.append("\n".join(body))
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


def _cjk_end(text: str) -> bool:
    return text[-1:] in "。！？；"
