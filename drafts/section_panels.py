"""What the draft panel shows of sections and suggestions: the outline of the shown version,
each section rendered in a place of its own (so one can stream while the rest stays), and the
draft's open suggestions with their word diffs."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString

from . import generation as runner
from . import markdown_html
from .models import Draft, DraftVersion, Generation, Suggestion
from .rewrite_prompts import headlines
from .sections import Section, block_end, outline
from .suggestions import Hunk, segments_of
from .word_diff import diff_texts


@dataclass
class Live:
    """A suggestion's generation while it streams: where the page resumes watching it."""

    generation: Generation
    index: int | None  # the section it streams into, or None (the suggestions list)
    text: str = ""  # the open text, after the finished blocks
    after: int = 0
    blocks: str = ""  # the finished Markdown blocks (sanitized HTML, marked safe)


@dataclass
class SectionRow:
    section: Section
    html: str
    live: Live | None = None
    # It (with its subsections) ends the draft: it cannot move down.
    ends_draft: bool = False


@dataclass
class Change:
    """One change of a suggestion, named for its accept and reject buttons: what it removes
    and adds as plain words (a Markdown fragment's marks would read as noise)."""

    index: int
    old: str
    new: str


@dataclass
class SuggestionItem:
    suggestion: Suggestion
    live: Live | None = None
    # The word diff rendered as Markdown with its marks (sanitized), and each change to decide.
    diff_html: SafeString | None = None
    change_list: list[Change] | None = None
    options: list[str] | None = None
    # Marked running, but no process runs it: its text so far, until drafts.sweeper ends it.
    recovering: bool = False

    @property
    def changes(self) -> int:
        return len(self.change_list or [])


def live_for(suggestion: Suggestion, index: int | None) -> Live:
    so_far = runner.live_snapshot(suggestion.generation_id)
    if suggestion.kind == Suggestion.Kind.FIT:
        # Tagged items, not Markdown: the whole text so far, which the page shows as items
        # (studio.js, over the escaped text), and no rendered blocks.
        return Live(suggestion.generation, index, so_far.content, so_far.seq)
    blocks = runner.live_blocks(so_far)
    return Live(suggestion.generation, index, so_far.tail, so_far.seq, blocks)


def open_suggestions(draft: Draft) -> list[Suggestion]:
    """The draft's open suggestions, with their generations (one query). One still marked
    running whose generation no worker runs any more is marked ``recovering`` (read only:
    ``drafts.sweeper`` ends it as interrupted, its text kept)."""
    open_ = list(draft.suggestions.open().select_related("generation"))
    for s in open_:
        s.recovering = s.status == Suggestion.Status.RUNNING and runner.is_orphan(s.generation)
    return open_


def section_context(
    draft: Draft, *, shown: DraftVersion | None, latest_number: int, suggested: bool = True
) -> dict[str, object]:
    """Sections of the shown version and the draft's open suggestions, for the panel.

    ``suggested=False``: no generation of the draft is a suggestion's (``drafts.panels``),
    so it most likely has none open: a plain existence check first, as reading them (with
    their generations) costs the ORM three times as much when there are none."""
    if shown is None:
        return {}
    sections, preamble_html, section_html = markdown_html.cached(
        shown, "sections", lambda: _rendered_sections(shown.text)
    )
    none_open = not suggested and not draft.has_open_suggestions()
    open_ = [] if none_open else open_suggestions(draft)
    in_place = {
        s.section_index: s
        for s in open_
        if s.status == Suggestion.Status.RUNNING
        and not s.recovering
        and s.is_section
        and s.base_number == shown.number
        and shown.number == latest_number
    }
    rows = [
        SectionRow(
            section=section,
            html=section_html[section.index],
            live=live_for(in_place[section.index], section.index)
            if section.index in in_place
            else None,
            ends_draft=block_end(sections, section.index) == len(sections),
        )
        for section in sections
    ]
    items = [_item(s) for s in open_ if s not in in_place.values()]
    return {
        "sections": rows,
        "preamble_html": preamble_html,
        "suggestions": items,
        "latest_number": latest_number,
        "rewrite_languages": list(Suggestion.LANGUAGES.items()),
        # Asked only where the template shows the button (editors, on the newest version).
        "offers_headlines": draft.offers_headlines,
    }


def _rendered_sections(text: str) -> tuple[list[Section], str, list[str]]:
    """The outline of ``text``, its preamble's HTML and each section's (none when the text is
    too long to format: the page then shows all of it as plain text)."""
    if markdown_html.too_long(text):
        return [], "", []
    sections = outline(text)
    if not sections:
        return [], "", []
    preamble = markdown_html.render_markdown(text[: sections[0].start])
    return (
        sections,
        preamble,
        [markdown_html.render_markdown(text[s.start : s.end]) for s in sections],
    )


def _item(suggestion: Suggestion) -> SuggestionItem:
    if suggestion.recovering:
        return SuggestionItem(suggestion, recovering=True)
    if suggestion.status == Suggestion.Status.RUNNING:
        return SuggestionItem(suggestion, live=live_for(suggestion, None))
    if suggestion.kind == Suggestion.Kind.HEADLINES:
        return SuggestionItem(suggestion, options=headlines(suggestion.proposed))
    # Its texts change only when a change is taken or left: the diff is worked out once per
    # pair (a word diff, a Markdown render and a plain-text parse per change), not for every
    # panel while it stays open (docs/decisions/0025-*.md).
    original, proposed = suggestion.original, suggestion.proposed
    pair = f"{len(original)}:{original}{proposed}"
    diff_html, changes = markdown_html.cached_for(
        f"suggestion-{suggestion.pk}:diff", pair, lambda: _diff(original, proposed)
    )
    return SuggestionItem(suggestion, diff_html=diff_html, change_list=changes)


def _diff(original: str, proposed: str) -> tuple[SafeString, list[Change]]:
    """The word diff as Markdown with its marks (sanitized HTML), and each change in words."""
    diff = diff_texts(original, proposed)
    changes = [
        Change(part.index, _words(part.old), _words(part.new))
        for part in segments_of(diff)
        if isinstance(part, Hunk)
    ]
    return diff.inline_markdown(), changes


def _words(fragment: str) -> str:
    """A changed stretch as plain words; one of only spaces or line breaks says so."""
    if not fragment:
        return ""
    shown = markdown_html.plain_text(fragment) or fragment.strip()  # "-" alone: no words
    return shown or ("↵" if "\n" in fragment else "␣")
