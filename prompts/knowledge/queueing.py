"""Starting a background ingestion: the row and its task, enqueued once the row commits.

Apart from ``actions`` (which the worker's side, ``ingesting``, uses to store) so that no
file cycle exists: queueing → tasks → ingesting → actions, as the batch experiments keep
``batch_actions`` apart from ``batch_progress``.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils.translation import get_language

from studio.workspaces.models import Workspace

from .actions import Upload
from .models import Ingestion, Source
from .tasks import ingest


def start_ingestion(
    *,
    workspace: Workspace,
    user,
    upload: Upload,
    source: Source | None = None,
    title: str = "",
    tags: list[str] | None = None,
) -> Ingestion:
    """Queue ``upload`` for the background worker (``tasks.ingest``, enqueued once this
    commits): a new source with ``title`` and ``tags``, or the next version of ``source``.
    Its error messages come in the language of the request that started it."""
    ingestion = Ingestion.objects.create(
        workspace=workspace,
        source=source,
        title=title.strip()[:200],
        tags=tags or [],
        kind=upload.kind,
        filename=upload.filename[:255],
        data=upload.data,
        size=len(upload.data),
        created_by=user,
    )
    transaction.on_commit(
        partial(ingest.enqueue, ingestion_id=ingestion.pk, language=get_language() or "")
    )
    return ingestion
