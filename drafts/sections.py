"""A Markdown draft as an outline of sections, one per heading, that can be replaced one at a
time while every other byte of the text stays exactly as it was.

Headings are found with markdown-it (the pages' parser), so a ``#`` inside a code block is not
a heading. A section runs from its heading line to the next heading; text before the first
heading is the preamble and is never part of a section.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Section:
    index: int
    level: int
    title: str
    start: int  # character offsets into the text: text[start:end] is the whole section
    end: int


def outline(text: str) -> list[Section]:
    """The sections of ``text`` in order."""
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    tokens = _parser.parse(text)
    heads = [
        (int(tok.tag[1]), tokens[i + 1].content, line_starts[tok.map[0]])
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.map
    ]
    ends = [start for _, _, start in heads[1:]] + ([len(text)] if heads else [])
    return [
        Section(index=i, level=level, title=title, start=start, end=end)
        for i, ((level, title, start), end) in enumerate(zip(heads, ends, strict=True))
    ]


def replace_section(text: str, index: int, new_section: str) -> str:
    """``text`` with section ``index`` replaced by ``new_section`` (its heading included).

    Everything before and after is copied unchanged; a blank line is kept before the next
    section so it stays a heading.
    """
    sections = outline(text)
    if not 0 <= index < len(sections):
        raise IndexError(f"No section {index}: the draft has {len(sections)}.")
    section = sections[index]
    if section.end < len(text):
        new_section = new_section.rstrip("\n") + "\n\n"
    return text[: section.start] + new_section + text[section.end :]


def move_section(text: str, index: int, to: int) -> str:
    """``text`` with section ``index`` swapped with its neighbour ``to`` (index ± 1).

    Sections move as written, flat (a subsection is a section of its own), each keeping its
    bytes; only the blank lines between positions stay where they were, so the moved text
    still starts on a line of its own and the document ends as it did.
    """
    sections = outline(text)
    if abs(index - to) != 1 or not (0 <= index < len(sections) and 0 <= to < len(sections)):
        raise IndexError(f"Cannot move section {index} to {to}: the draft has {len(sections)}.")
    first, second = sorted((index, to))
    a, b = sections[first], sections[second]
    a_text, b_text = text[a.start : a.end], text[b.start : b.end]
    a_core, b_core = a_text.rstrip("\r\n"), b_text.rstrip("\r\n")
    a_gap, b_gap = a_text[len(a_core) :] or "\n", b_text[len(b_core) :]
    return text[: a.start] + b_core + a_gap + a_core + b_gap + text[b.end :]
