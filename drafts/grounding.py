"""Grounding a generation in the workspace's knowledge (docs/decisions/grounding-and-citations.md).

A template version with a ``knowledge`` variable is grounded when its generation is asked
for: the filled text inputs are the query, ``prompts.knowledge.grounding`` ranks the
passages in scope, they are numbered [1], [2]… in that order, the lowest-ranked ones are
dropped until the prompt fits the model's context (the pre-flight estimate,
``studio.ai.check_prompt``), and the numbered ``<sources>`` block fills the variable's
placeholder (or ends the user message). The passages given are stored with the generation
(``GroundingPassage``); none found: the prompt goes without a block, and the draft says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings

from prompts.knowledge.grounding import retrieve
from prompts.schema import DEFAULT_PASSAGES
from studio.ai import check_prompt
from studio.deepseek import ContextTooLong
from studio.guardrails.prompt_checks import blocked_in

from .models import Generation, GroundingPassage

INSTRUCTION = (
    "Use only the sources above for facts. Cite each fact with its source number in square "
    "brackets, like [1]."
)
INSTRUCTION_ZH = "仅使用上面的资料陈述事实，并用方括号标注资料编号，例如 [1]。"
# The inputs that make the query: what a person typed, not a picked tone or a number.
QUERY_TYPES = frozenset({"text", "textarea", "audience"})
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Cited:
    """One numbered passage of a prompt's sources block (a ``GroundingPassage`` to be)."""

    number: int
    source_title: str
    version_number: int
    text: str
    score: float
    heading: str = ""
    passage_id: int | None = None
    source_version_id: int | None = None

    @classmethod
    def from_row(cls, row: GroundingPassage) -> Cited:
        return cls(**{name: getattr(row, name) for name in _CITED_FIELDS})

    def row(self, generation: Generation) -> GroundingPassage:
        return GroundingPassage(
            generation=generation, **{name: getattr(self, name) for name in _CITED_FIELDS}
        )


# A Cited's fields are GroundingPassage's (the two foreign keys by their ids).
_CITED_FIELDS = tuple(field.name for field in fields(Cited))


def query_for(variables: Sequence[Any], inputs: dict[str, Any]) -> str:
    """The retrieval query: the filled text inputs, in the form's order."""
    typed = [var.name for var in variables if var.type in QUERY_TYPES]
    texts = [str(inputs.get(name) or "").strip() for name in typed]
    return "\n".join(text for text in texts if text)


def is_chinese(text: str) -> bool:
    """Whether a request reads as Chinese: more Han characters than Latin letters."""
    return len(_CJK.findall(text)) > len(_LATIN.findall(text))


def sources_block(cited: Sequence[Cited], *, chinese: bool = False) -> str:
    """The numbered sources block (the grounding contract's format; the offline simulator
    reads it): ``[n] title (vN)``, the passage, a blank line; then the instruction."""
    entries = "".join(
        f"[{c.number}] {c.source_title} (v{c.version_number})\n{c.text.strip()}\n\n" for c in cited
    )
    instruction = INSTRUCTION_ZH if chinese else INSTRUCTION
    return f"<sources>\n{entries.rstrip()}\n</sources>\n{instruction}"


def fitted(
    cited: list[Cited],
    build: Callable[[str], list[dict[str, Any]]],
    *,
    model: str,
    max_tokens: int | None,
    chinese: bool,
) -> tuple[list[Cited], list[dict[str, Any]]]:
    """The passages that fit the model's context (and PROMPT_MAX_CHARS) with the prompt, and
    the messages with them: the lowest-ranked are dropped first; none fit, the messages
    without a block."""
    kept = list(cited)
    cap = settings.PROMPT_MAX_CHARS
    while kept:
        messages = build(sources_block(kept, chinese=chinese))
        if cap and sum(len(str(m.get("content") or "")) for m in messages) > cap:
            kept.pop()
            continue
        try:
            check_prompt(messages, model=model, max_tokens=max_tokens)
        except ContextTooLong:
            kept.pop()
            continue
        return kept, messages
    return [], build("")


@dataclass(frozen=True)
class Scope:
    """A caller's say over a grounded generation (the JSON API's ``knowledge``): each field
    that is not None replaces the knowledge variable's own (``query``: the retrieval query
    instead of the filled text inputs); ``off``: no retrieval, no sources block, and the
    generation is not grounded (``[n]`` in its text is plain text)."""

    tags: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    passages: int | None = None
    query: str | None = None
    off: bool = False


def ranked(
    version, inputs: dict[str, Any], *, workspace, scope: Scope | None = None
) -> tuple[list[Cited], bool]:
    """The passages a version's knowledge variable (with ``scope``'s overrides) finds for
    these inputs, numbered in ranking order, and whether the request reads as Chinese (for
    the instruction line). A version without one (a campaign grounds every deliverable in
    its brief's sources) draws on what ``scope`` names, else on every source."""
    variable = version.knowledge_variable()
    scope = scope or Scope()
    query = scope.query if scope.query is not None else query_for(version.variable_specs, inputs)
    tags, sources = (variable.tags, variable.sources) if variable else ((), ())
    hits = retrieve(
        workspace,
        query=query,
        tags=tags if scope.tags is None else scope.tags,
        sources=sources if scope.sources is None else scope.sources,
        limit=scope.passages or (variable.passage_count() if variable else DEFAULT_PASSAGES),
    )
    # The prompt checks' blocked patterns (a secret key, <script) hold for sources too: a
    # passage holding one is never given to the model (the others still are).
    hits = [hit for hit in hits if blocked_in(hit.passage.text) is None]
    cited = [
        Cited(
            number=number,
            source_title=hit.passage.version.source.title,
            version_number=hit.passage.version.number,
            text=hit.passage.text,
            score=hit.score,
            heading=hit.passage.heading,
            passage_id=hit.passage.pk,
            source_version_id=hit.passage.version_id,
        )
        for number, hit in enumerate(hits, start=1)
    ]
    return cited, is_chinese(query)


def store(generation: Generation, grounding: Sequence[Cited] | None) -> None:
    """Keep the passages a generation's prompt gave (inside the generate transaction)."""
    if grounding is None:
        return
    GroundingPassage.objects.bulk_create([c.row(generation) for c in grounding])
