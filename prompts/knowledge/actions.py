"""Knowledge writes that touch several rows: a source with its first version, a new version.

Each is one transaction: the source, the version and every passage are stored together or not
at all (the document was parsed before, parsing.py, so a file that cannot be read stores
nothing). The search index follows by itself (database triggers, migration 0002).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from studio.workspaces.models import Workspace

from .chunking import HEADING_SEPARATOR, chunk
from .models import Passage, Source, SourceVersion
from .parsing import Document
from .segmenting import index_text

MAX_TAGS = 20
MAX_TAG_CHARS = 40


def clean_tags(text: str) -> list[str]:
    """ "Pricing, lumen  , pricing" → ["pricing", "lumen"]: lowercased, distinct, in order."""
    tags: list[str] = []
    for tag in text.replace("，", ",").split(","):
        tag = " ".join(tag.split()).lower()[:MAX_TAG_CHARS]
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


@transaction.atomic
def add_source(
    *,
    workspace: Workspace,
    user,
    title: str,
    tags: list[str],
    document: Document,
    passages: list[Passage] | None = None,
) -> SourceVersion:
    """A new source owned by ``user`` with ``document`` as its version 1.

    :param title: the title shown; empty: the document's own (its first heading) or its name.
    :param passages: the document's passages, already made (``passages_of``); None: made here.
    """
    title = title.strip() or document.title or document.filename or document.url or "Untitled"
    source = Source.objects.create(workspace=workspace, title=title[:200], tags=tags, owner=user)
    return _store(source=source, user=user, document=document, number=1, passages=passages)


@transaction.atomic
def add_source_version(
    *, source: Source, user, document: Document, passages: list[Passage] | None = None
) -> SourceVersion:
    """``document`` as the source's next version; earlier versions and their passages stay
    (a draft grounded in one keeps pointing at it)."""
    Source.objects.select_for_update().filter(pk=source.pk).first()  # one number at a time
    number = (source.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return _store(source=source, user=user, document=document, number=number, passages=passages)


def passages_of(
    text: str, progress: Callable[[int, int], None] = lambda done, total: None
) -> list[Passage]:
    """A version's passages, not yet saved (nor attached to a version): ``text`` chunked, each
    piece with its indexed terms. ``progress(done, total)`` as they are made."""
    pieces = chunk(text)
    passages = []
    for position, piece in enumerate(pieces):
        heading = piece.heading.replace(HEADING_SEPARATOR, " ")
        passages.append(
            Passage(
                position=position,
                heading=piece.heading,
                text=piece.text,
                terms=index_text(f"{heading}\n{piece.text}"),
            )
        )
        progress(position + 1, len(pieces))
    return passages


@dataclass(frozen=True)
class Upload:
    """A document too long to read in a request: its bytes, for the background worker."""

    data: bytes
    kind: str
    filename: str = ""


def _store(
    *,
    source: Source,
    user,
    document: Document,
    number: int,
    passages: list[Passage] | None = None,
) -> SourceVersion:
    version = SourceVersion.objects.create(
        source=source,
        number=number,
        kind=document.kind,
        filename=document.filename[:255],
        url=document.url,
        text=document.text,
        size=document.size,
        pages=document.pages,
        sha256=document.sha256,
        created_by=user,
    )
    if passages is None:
        passages = passages_of(document.text)
    for passage in passages:
        passage.version = version
    Passage.objects.bulk_create(passages, batch_size=500)
    return version
