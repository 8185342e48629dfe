"""AI rewrites as tracked suggestions: started like any generation, decided by the editor.

A suggestion targets a range of one version's text: a section, a selection, the whole draft,
or (headline alternatives) the draft's title line. The model's answer is kept as
``proposed`` beside the ``original`` it would replace; nothing reaches the draft until the
editor accepts, except a section regeneration whose draft did not change meanwhile: that one
is saved at once as a new version where only the section differs
(``drafts.actions.settle_suggestion``, called as its generation ends).

Deciding one change at a time: accepting a change writes a new version with it and moves it
into ``original``; rejecting one moves the old text back into ``proposed``. Either way the
two agree a little more, and the suggestion is settled when they are equal.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from studio.ai import route_for
from studio.audit.origin import Origin
from studio.guardrails.prompt_checks import validate_prompt

from .actions import VersionConflict, add_version
from .generate import Ask, Generate, do_generate_one
from .models import Draft, DraftVersion, Generation, Suggestion
from .rewrite_prompts import build_messages, headlines
from .sections import Section, outline
from .word_diff import EQUAL, INSERT, Diff, diff_texts


class SuggestionChanged(Exception):
    """The suggestion was decided or changed since the page showed it (another tab)."""


class NotApplicable(Exception):
    """The text a suggestion would replace is no longer in the draft: it cannot be placed."""


class NotOffered(Exception):
    """A kind of suggestion this draft does not offer (headline alternatives for text that is
    not marketing text: ``Draft.offers_headlines``). The page hides its button; a request
    that asks anyway is refused."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Hunk:
    """One change: consecutive removed and added words between two unchanged stretches."""

    index: int
    old: str
    new: str


def segments(original: str, proposed: str) -> list[str | Hunk]:
    """The word diff as unchanged text (str) and numbered changes (Hunk), in order."""
    return segments_of(diff_texts(original, proposed))


def segments_of(diff: Diff) -> list[str | Hunk]:
    """``segments`` of a diff already made (the panel renders the same diff too)."""
    parts: list[str | Hunk] = []
    old: list[str] = []
    new: list[str] = []
    count = 0

    def close() -> None:
        nonlocal count
        if old or new:
            parts.append(Hunk(count, "".join(old), "".join(new)))
            count += 1
            old.clear()
            new.clear()

    for change in diff.changes:
        if change.op == EQUAL:
            close()
            parts.append(change.text)
        else:
            (new if change.op == INSERT else old).append(change.text)
    close()
    return parts


def resolve(original: str, proposed: str, index: int, *, accept: bool) -> tuple[str, str]:
    """``original`` and ``proposed`` with change ``index`` taken into one or left out of both."""
    parts = segments(original, proposed)
    if not any(isinstance(p, Hunk) and p.index == index for p in parts):
        raise SuggestionChanged(f"No change {index} in this suggestion.")
    old_text, new_text = [], []
    for part in parts:
        if isinstance(part, str):
            old_text.append(part)
            new_text.append(part)
        elif part.index == index:
            old_text.append(part.new if accept else part.old)
            new_text.append(part.new if accept else part.old)
        else:
            old_text.append(part.old)
            new_text.append(part.new)
    return "".join(old_text), "".join(new_text)


def _params(purpose: str) -> dict[str, object]:

    return {"max_tokens": settings.DEEPSEEK_MAX_TOKENS, **route_for(purpose).params()}


_HEADING_MARK = re.compile(r"[ ]{0,3}#{1,6}[ \t]+")
_BETWEEN_WORDS = r"[*_`~]*\s+[*_`~]*"


def _find(text: str, selection: str) -> tuple[int, int]:
    """Where the selected text is in the Markdown source: as it is, or (selected on the
    rendered page) with emphasis marks and line breaks between its words. Only once."""
    if text.count(selection) == 1:
        start = text.index(selection)
        return start, start + len(selection)
    pattern = _BETWEEN_WORDS.join(re.escape(word) for word in selection.split())
    found = list(re.finditer(pattern, text)) if pattern else []
    if len(found) != 1:
        raise ValueError(_("Select text that appears once in the draft, within one paragraph."))
    return found[0].span()


def _title_range(text: str, section: Section) -> tuple[int, int]:
    """The heading text of ``section`` (its line without the ``#`` marks)."""
    line = text[section.start :].split("\n", 1)[0].rstrip("\r")
    mark = _HEADING_MARK.match(line)
    return section.start + (mark.end() if mark else 0), section.start + len(line.rstrip())


def _target(
    text: str, *, kind: str, section_index: int | None, selection: str
) -> tuple[tuple[int, int], str]:
    """Where in ``text`` the suggestion applies, and what the model is to read for it.

    Headlines replace a heading's text (the draft's first, or the chosen section's) but are
    written from the whole draft or section. ValueError if the target cannot be found.
    """
    if kind in Suggestion.SECTION_KINDS:
        if section_index is None:
            raise ValueError(_("Pick a section."))
        selection = ""  # a section is rewritten whole
    sections = outline(text)
    if selection:
        start, end = _find(text, selection)
        return (start, end), text[start:end]
    if section_index is not None:
        if not 0 <= section_index < len(sections):
            raise ValueError(_("This section is no longer in the draft."))
        section = sections[section_index]
        whole = text[section.start : section.end]
        if kind == Suggestion.Kind.HEADLINES:
            return _title_range(text, section), whole
        return (section.start, section.end), whole
    if kind == Suggestion.Kind.HEADLINES:
        # No title yet: the chosen headline goes on top.
        return (_title_range(text, sections[0]) if sections else (0, 0)), text
    return (0, len(text)), text


def start_suggestion(
    *,
    draft: Draft,
    user,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None,
    kind: str,
    instruction: str = "",
    section_index: int | None = None,
    selection: str = "",
    base_number: int | None = None,
) -> Suggestion:
    """Start a generation that rewrites part of the draft's newest version as a suggestion,
    through the generate action (checks, rows, launch on ``loop`` once committed).

    :param section_index: a section (``drafts.sections.outline``), for the section kinds.
    :param selection: text that occurs once in the draft, else the whole draft (or its title
        line, for headlines). Raises ValueError when the target cannot be found.
    :param base_number: the version the editor saw; if given and no longer the newest,
        :class:`VersionConflict` (a section index or selection may mean something else now).
    Raises ``ValidationError`` when the prompt may not be sent (``validate_prompt``: too long,
    or the draft holds a blocked pattern), and the generate action's refusals (NotAllowed,
    BudgetExceeded); nothing is created then. Raises :class:`NotOffered` for headline
    alternatives on a draft that does not offer them.
    """
    if kind == Suggestion.Kind.HEADLINES and not draft.offers_headlines():
        raise NotOffered(
            _(
                "Headline alternatives are offered for marketing text only (copy, emails, ads): "
                "this draft's template has another purpose."
            )
        )
    latest = draft.latest_version()
    if latest is None:
        raise ValueError(_("This draft has no text yet."))
    if base_number is not None and base_number != latest.number:
        raise VersionConflict(latest)
    (start, end), reads = _target(
        latest.text, kind=kind, section_index=section_index, selection=selection
    )
    is_section = kind in Suggestion.SECTION_KINDS
    messages = build_messages(
        kind=kind, document=latest.text, target=reads, instruction=instruction
    )
    # The editor's own text was checked in the form; this is the whole prompt, draft included.
    validate_prompt(messages, sources=[_("the editing instructions"), _("the draft")])
    row = Suggestion(
        draft=draft,
        created_by=user,
        kind=kind,
        instruction=instruction,
        base_number=latest.number,
        section_index=section_index,
        start=start,
        end=end,
        original=latest.text[start:end],
    )
    purpose = "docs" if is_section else "rewrite"
    return _launch(row, messages, purpose=purpose, user=user, origin=origin, loop=loop)


def start_fit(
    *,
    draft: Draft,
    user,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None,
    messages: list[dict[str, str]],
    parts: list[tuple[int, int]],
    base_number: int,
) -> Suggestion:
    """Start a "Fit to limits" of version ``base_number`` (the one the page showed; else
    :class:`VersionConflict`): the caller (a campaign deliverable, which knows its channel's
    rules) gives the prompt and the ranges of the text its answer's items replace, in order
    (``rewrite_prompts.fill_parts``). The suggestion covers the whole text, so accepting it
    is a version like any rewrite's, and a stale one never overwrites a newer version. Same
    checks and refusals as :func:`start_suggestion`, through the same generate action."""
    latest = draft.latest_version()
    if latest is None:
        raise ValueError(_("This draft has no text yet."))
    if base_number != latest.number:
        raise VersionConflict(latest)
    if not parts or not all(0 <= s <= e <= len(latest.text) for s, e in parts):
        raise ValueError(_("Nothing in this draft breaks a rule."))
    validate_prompt(messages, sources=[_("the draft")])
    row = Suggestion(
        draft=draft,
        created_by=user,
        kind=Suggestion.Kind.FIT,
        base_number=latest.number,
        start=0,
        end=len(latest.text),
        original=latest.text,
        parts=[[s, e] for s, e in parts],
    )
    return _launch(row, messages, purpose="rewrite", user=user, origin=origin, loop=loop)


def _launch(
    row: Suggestion,
    messages: list[dict[str, str]],
    *,
    purpose: str,
    user,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None,
) -> Suggestion:
    """The suggestion ``row`` (not saved yet) and its generation, through the generate
    action; the row is stored with the generation, under the draft's lock, only if the
    version it was made from is still the newest."""
    draft = row.draft
    params = _params(purpose)
    ask = Ask(
        model=str(params["model"]),
        params=params,
        messages=messages,
        inputs={"suggestion": row.kind, "instruction": row.instruction},
        template_version=draft.template_version,
    )

    def suggest(generations: list[Generation]) -> None:
        # Under the draft's lock: the version the target was found in is still the newest.
        newest = Draft.objects.select_for_update().get(pk=draft.pk).latest_version()
        if newest is None or newest.number != row.base_number:
            raise VersionConflict(newest)
        row.generation = generations[0]
        row.save()

    request = Generate(
        user=user, workspace=draft.workspace, origin=origin, asks=[ask], draft=draft, loop=loop
    )
    do_generate_one(request, within=suggest)
    return row


def _place(suggestion: Suggestion, latest: DraftVersion) -> tuple[int, int]:
    """The suggestion's range in the newest version: where it was, or where its text moved."""
    if suggestion.base_number == latest.number:
        return suggestion.start, suggestion.end
    if suggestion.original and latest.text.count(suggestion.original) == 1:
        start = latest.text.index(suggestion.original)
        return start, start + len(suggestion.original)
    raise NotApplicable(_("The text this suggestion changes has been edited since."))


def _apply(suggestion: Suggestion, new_text: str, *, base_number: int, author_id: int) -> None:
    """Put ``new_text`` in place of the suggestion's original as a new version (locked)."""
    draft = Draft.objects.select_for_update().get(pk=suggestion.draft_id)
    latest = draft.versions.order_by("-number").first()
    if latest is None or latest.number != base_number:
        raise VersionConflict(latest)
    start, end = _place(suggestion, latest)
    version = add_version(
        draft_id=draft.pk,
        text=latest.text[:start] + new_text + latest.text[end:],
        source=DraftVersion.Source.SUGGESTION,
        author_id=author_id,
        based_on=latest.number,
    )
    suggestion.original = new_text
    suggestion.start, suggestion.end = start, start + len(new_text)
    suggestion.base_number = version.number
    suggestion.version = version


def _locked(suggestion_id: int, revision: int) -> Suggestion:
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.PENDING or suggestion.revision != revision:
        raise SuggestionChanged(_("This suggestion changed since the page showed it."))
    return suggestion


def _settle_if_done(suggestion: Suggestion) -> Suggestion:
    suggestion.revision += 1
    if suggestion.original == suggestion.proposed:
        accepted = suggestion.version_id is not None
        suggestion.status = Suggestion.Status.ACCEPTED if accepted else Suggestion.Status.REJECTED
        suggestion.resolved = timezone.now()
    suggestion.save()
    return suggestion


def decide(
    *,
    suggestion_id: int,
    accept: bool,
    change: int | None,
    base_number: int,
    revision: int,
    author_id: int,
) -> Suggestion:
    """Accept or reject one change (``change``) or all that are left (``None``).

    Accepting writes a new version, only if ``base_number`` (the version the editor saw) is
    still the newest: else :class:`VersionConflict`, and the suggestion is kept as it was.
    Rejecting writes nothing to the draft. :class:`SuggestionChanged` if another tab decided
    first, :class:`NotApplicable` if the text to replace is gone from the draft.
    """
    with transaction.atomic():
        suggestion = _locked(suggestion_id, revision)
        if change is None:
            new_original = suggestion.proposed if accept else suggestion.original
            new_proposed = new_original
        else:
            new_original, new_proposed = resolve(
                suggestion.original, suggestion.proposed, change, accept=accept
            )
        if accept:
            _apply(suggestion, new_original, base_number=base_number, author_id=author_id)
        suggestion.proposed = new_proposed
        return _settle_if_done(suggestion)


def use_headline(
    *, suggestion_id: int, choice: int, base_number: int, revision: int, author_id: int
) -> Suggestion:
    """Put headline alternative ``choice`` in place of the title (or selection) as a version."""
    with transaction.atomic():
        suggestion = _locked(suggestion_id, revision)
        options = headlines(suggestion.proposed)
        if not 0 <= choice < len(options):
            raise SuggestionChanged(f"No headline {choice}.")
        new_text = options[choice]
        if suggestion.start == suggestion.end == 0 and not suggestion.original:
            new_text = f"# {new_text}\n\n"  # the draft had no title: this one becomes it
        _apply(suggestion, new_text, base_number=base_number, author_id=author_id)
        suggestion.proposed = suggestion.original
        return _settle_if_done(suggestion)
