"""Citation markers in a grounded draft: ``[n]`` in the model's text, linked to passage n.

Applied to HTML that ``markdown_html`` has already sanitized (model output is untrusted), in
its text only: never inside a tag, a link, or code. A marker whose number the prompt gave
becomes a button that opens the passage's popover (``drafts/citations.html``: the quoted
text, its source's title and version, a link to the source); any other number is flagged
as an unknown source, never linked. A text that was not grounded is left as it is: there
``[1]`` is just text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

from .models import DraftVersion, Generation, GroundingPassage

MARKER = re.compile(r"\[(\d{1,3})\]")
_TAG = re.compile(r"""(<(?:[^>"']|"[^"]*"|'[^']*')*>)""")  # quoted ">" stays inside
_OPAQUE = {"a", "code", "pre"}  # markers inside these stay text


@dataclass(frozen=True)
class Citations:
    """What ``[n]`` may point at in one text: passages 1..``count`` of generation ``key``."""

    key: int
    count: int

    def anchor(self, number: int) -> str:
        return f"cite-{self.key}-{number}"


@dataclass(frozen=True)
class Grounding:
    """A generation's grounding for a page: the markers' targets and the passages."""

    citations: Citations | None
    passages: list[GroundingPassage]

    @classmethod
    def of(cls, generation: Generation | None) -> Grounding:
        found = for_generation(generation)
        if generation is None or not found or not found.count:
            return cls(found, [])
        rows = generation.grounding.select_related("passage__version__source").defer(
            # For the source link only: not a version's whole text nor the index columns.
            "passage__version__text",
            "passage__terms",
            "passage__search_vector",
        )
        return cls(found, list(rows))

    @property
    def none_found(self) -> bool:
        """Grounded, but no passage matched: the draft says so."""
        return self.citations is not None and self.citations.count == 0


def for_generation(generation: Generation | None) -> Citations | None:
    """The citations of a generation's text (None when it was not grounded)."""
    if generation is None or generation.passages_given is None:
        return None
    return Citations(key=generation.pk, count=generation.passages_given)


def grounding_generation(version: DraftVersion | None) -> Generation | None:
    """The grounded generation a version's markers refer to: its own, or for a version
    written by hand (an edit, a restore), the newest grounded one of the draft before it."""
    if version is None:
        return None
    if version.generation_id is not None:
        own = version.generation
        return own if own.passages_given is not None else None
    earlier = Generation.objects.filter(
        draft_id=version.draft_id,
        passages_given__isnull=False,
        version__number__lte=version.number,
    )
    # Its id and count only: not the prompt (messages) nor the text of every version.
    return earlier.only("pk", "passages_given").order_by("-pk").first()


def unknown_markers(text: str, citations: Citations | None) -> list[int]:
    """The numbers of the markers in ``text`` that point at no passage given (what the
    pages flag), in order, each once; none for a text that was not grounded."""
    if citations is None:
        return []
    numbers = (int(number) for number in MARKER.findall(text))
    return list(dict.fromkeys(n for n in numbers if not 1 <= n <= citations.count))


def _marker(match: re.Match[str], citations: Citations, footnotes: bool = False) -> str:
    number = int(match.group(1))
    if 1 <= number <= citations.count and footnotes:
        return f'<sup><a href="#fn-{number}" id="fnref-{number}">[{number}]</a></sup>'
    if 1 <= number <= citations.count:
        return (
            f'<button type="button" class="citation" data-citation="{number}" '
            f'popovertarget="{citations.anchor(number)}">[{number}]</button>'
        )
    return (
        f'<span class="citation-unknown" data-citation-unknown="{number}">'
        f'[{number}]<sup aria-hidden="true">?</sup></span>'
    )


def link(html: str, citations: Citations | None, *, footnotes: bool = False) -> SafeString:
    """Sanitized ``html`` with its markers linked (or flagged) for ``citations``: to their
    popovers, or with ``footnotes`` (an exported file) to its notes ``#fn-<n>``."""
    if citations is None:
        return mark_safe(html)  # noqa: S308 — the caller's sanitized HTML, unchanged
    parts = _TAG.split(html)
    opaque = 0
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            name = part.strip("</>").split(None, 1)[0].lower() if part.strip("</>") else ""
            if name in _OPAQUE:
                opaque += -1 if part.startswith("</") else 1
                opaque = max(opaque, 0)
        elif not opaque and "[" in part:
            parts[index] = MARKER.sub(lambda m: _marker(m, citations, footnotes), part)
    # Only integers and constants are added to text nh3 already made safe.
    return mark_safe("".join(parts))  # noqa: S308


# --- Exports: the markers as footnotes -----------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def markdown_footnotes(text: str, grounding: Grounding) -> str:
    """A Markdown text with its known markers as footnote references (``[^n]``) and the
    notes at its end; unknown markers stay as written. Code is left alone."""
    if not grounding.passages:
        return text
    known = {p.number for p in grounding.passages}

    def refs(plain: str) -> str:
        return MARKER.sub(lambda m: f"[^{m[1]}]" if int(m[1]) in known else m[0], plain)

    lines, fence = [], ""
    for line in text.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence:
            fence = "" if opened and opened[1].startswith(fence) else fence
        elif opened:
            fence = opened[1]
        else:
            line = _outside_code(line, refs)
        lines.append(line)
    notes = "".join(f"[^{p.number}]: {p.note_text()}\n" for p in grounding.passages)
    return "".join(lines).rstrip("\n") + "\n\n" + notes


def _outside_code(line: str, refs: Callable[[str], str]) -> str:
    """``refs`` applied to the line's text outside its code spans."""
    out, last = [], 0
    for match in _CODE_SPAN.finditer(line):
        out.append(refs(line[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(refs(line[last:]))
    return "".join(out)
