"""Retrieval for grounding: the passages a template's ``knowledge`` variable draws on.

The generate action (``drafts.grounding``) asks for the best passages for a form's inputs;
this module knows which passages are in scope (the workspace's current, non-archived
sources, narrowed to the variable's tags or source titles) and ranks them with the same
search as the search page (search.py). Numbering, fitting into the context and the prompt
text are the generate action's.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Passage, Source
from .search import Hit, search


def _folded(names: Iterable[str]) -> set[str]:
    return {name.strip().casefold() for name in names if name.strip()}


def scope(workspace, *, tags: Iterable[str] = (), sources: Iterable[str] = ()) -> QuerySet[Passage]:
    """The passages a knowledge variable may draw from: the workspace's searchable passages
    (current versions of sources not archived) of the sources that carry any of ``tags`` or
    whose title is one of ``sources`` (both case-insensitive); every source when both are
    empty."""
    passages = Passage.objects.searchable(workspace)
    wanted_tags, wanted_titles = _folded(tags), _folded(sources)
    if not wanted_tags and not wanted_titles:
        return passages
    # Tags are a JSON list: matched here rather than in SQL (SQLite has no JSON containment),
    # over the workspace's sources only — a handful of rows.
    rows = Source.objects.active().filter(workspace=workspace).values_list("pk", "title", "tags")
    picked = [
        pk
        for pk, title, source_tags in rows
        if title.strip().casefold() in wanted_titles
        or wanted_tags & _folded(t for t in source_tags or () if isinstance(t, str))
    ]
    return passages.filter(version__source__in=picked)


def retrieve(
    workspace,
    *,
    query: str,
    tags: Iterable[str] = (),
    sources: Iterable[str] = (),
    limit: int = 5,
) -> list[Hit]:
    """The best ``limit`` passages in scope for ``query``, best first (none for an empty
    query or an empty scope)."""
    if not query.strip():
        return []
    return search(scope(workspace, tags=tags, sources=sources), query, limit=limit)
