"""A Markdown draft as an outline of sections, one per heading, that can be replaced one at a
time while every other byte of the text stays exactly as it was.

Headings are found with markdown-it (the pages' parser), so a ``#`` inside a code block is not
a heading. A section runs from its heading line to the next heading; text before the first
heading is the preamble and is never part of a section.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

# Block structure only: a heading's position and its inline source are known after the block
# pass, so the inline pass (emphasis, links: most of the parse time) is switched off. The
# final panel of every generation outlines its text, so this is on the streaming path.
_parser = MarkdownIt("commonmark").disable("inline")


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
    """``text`` with section ``index`` moved one step towards ``to`` (index ± 1)."""
    return plan_move(text, index, to)[0]


def plan_move(text: str, index: int, to: int) -> tuple[str, int]:
    """``text`` with section ``index`` moved one step towards ``to``, and the index at which
    the moved section's heading lands.

    A leaf (a heading with no subsections) swaps with its neighbour, flat. A heading with
    subsections moves with them as one block: up past the block before it (its previous
    sibling and that one's subsections), down past the next sibling's block (or, at the end
    of its parent, past the next heading of a higher level). Each block keeps its bytes; only
    the blank lines between positions stay where they were, so the moved text still starts on
    a line of its own and the document ends as it did.
    """
    sections = outline(text)
    count = len(sections)
    if abs(index - to) != 1 or not (0 <= index < count and 0 <= to < count):
        raise IndexError(f"Cannot move section {index} to {to}: the draft has {count}.")
    first, second, landed = _blocks_to_swap(sections, index, to)
    return _swap(text, sections, first, second), landed


def block_end(sections: list[Section], index: int) -> int:
    """The index after section ``index``'s subsections (the next heading of its level or
    higher, or the end)."""
    level = sections[index].level
    later = range(index + 1, len(sections))
    return next((k for k in later if sections[k].level <= level), len(sections))


def _blocks_to_swap(sections: list[Section], index: int, to: int) -> tuple[range, range, int]:
    """The two adjacent runs of sections a move swaps, in text order, and where it lands."""
    end = block_end(sections, index)
    if end == index + 1:  # a leaf: flat, as sections always moved
        low, high = sorted((index, to))
        return range(low, low + 1), range(high, high + 1), to
    if to < index:
        # The biggest block that ends right here: the previous sibling with its subsections;
        # none when this is its parent's first subsection, which then swaps with the parent's
        # heading section alone.
        before = (j for j in range(index) if block_end(sections, j) == index)
        start = next(before, index - 1)
        return range(start, index), range(index, end), start
    if end == len(sections):
        raise IndexError(f"Section {index} and its subsections already end the draft.")
    sibling = sections[end].level == sections[index].level
    after = block_end(sections, end) if sibling else end + 1
    return range(index, end), range(end, after), index + (after - end)


def _swap(text: str, sections: list[Section], first: range, second: range) -> str:
    start, middle = sections[first[0]].start, sections[second[0]].start
    end = sections[second[-1]].end
    a_text, b_text = text[start:middle], text[middle:end]
    a_core, b_core = a_text.rstrip("\r\n"), b_text.rstrip("\r\n")
    a_gap, b_gap = a_text[len(a_core) :] or "\n", b_text[len(b_core) :]
    return text[:start] + b_core + a_gap + a_core + b_gap + text[end:]
