"""The background worker's side of a long document: read it, split it, store it, telling the
page how far it is (``Ingestion``: step, done/total, percent), then store the source version
and all its passages in one transaction, or mark it failed with the reason and store nothing.

Run by ``tasks.ingest`` under ``manage.py db_worker`` (django.tasks), like the batch
experiments. A worker that stops mid-way (a restart, a crash) leaves its ingestion running
with no progress: ``sweep_stalled`` marks such ones failed, at the studio's start-up (the ASGI
lifespan) and before each ingestion the worker takes; until then its page shows it stopped.
"""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from studio import background

from .actions import add_source, add_source_version, passages_of
from .models import Ingestion
from .parsing import SourceError, parse

logger = logging.getLogger(__name__)

# How often (seconds) progress is written: often enough for a page polling every second,
# and for a live ingestion never to look stalled.
PROGRESS_EVERY = 0.5
# The percent each step starts at: reading is most of the work, storing the last part.
_STEPS = {
    Ingestion.Step.PARSING: (0, 70),
    Ingestion.Step.PASSAGES: (70, 95),
    Ingestion.Step.STORING: (95, 100),
}


def sweep_stalled() -> list[int]:
    """Mark failed every ingestion that has made no progress for
    KNOWLEDGE_INGEST_STALL_SECONDS (its worker stopped): nothing of it was stored."""
    stalled = list(Ingestion.objects.stalled().values_list("pk", flat=True))
    if stalled:
        message = _("The ingestion stopped (the background worker was restarted or stopped).")
        Ingestion.objects.filter(pk__in=stalled).stalled().update(
            status=Ingestion.Status.FAILED,
            error=message + " " + _("Nothing was stored: upload the document again."),
            data=b"",
            progressed=timezone.now(),
        )
        logger.warning("Marked %s stalled knowledge ingestions failed: %s", len(stalled), stalled)
    return stalled


async def sweep_at_startup() -> None:
    """``sweep_stalled`` once, in the background of a starting studio (the ASGI lifespan):
    ingestions whose worker stopped with the last deployment are failed, not left running."""
    try:
        await background.aheal(sweep_stalled)()
    except Exception:
        logger.exception("The knowledge ingestion sweep failed")


def start_sweep():
    """``sweep_at_startup`` as a background task of the starting process (not awaited: the
    studio starts serving meanwhile)."""
    return background.start(sweep_at_startup(), name="knowledge-sweep", keep_request_id=False)


class _Reporter:
    """Writes an ingestion's progress, at most every PROGRESS_EVERY seconds within a step."""

    def __init__(self, pk: int) -> None:
        self.pk, self.step, self.last = pk, "", 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done < total:
            return
        self.last = now
        low, high = _STEPS[self.step]
        percent = low + (high - low) * done // max(total, 1)
        Ingestion.objects.filter(pk=self.pk, status=Ingestion.Status.RUNNING).update(
            step=self.step, done=done, total=total, percent=percent, progressed=timezone.now()
        )

    def begin(self, step: str, total: int = 0) -> None:
        self.step, self.last = step, 0.0
        self(0, total)


def ingest(ingestion_id: int) -> str:
    """Read, split and store one queued ingestion; returns its status."""
    sweep_stalled()
    claimed = Ingestion.objects.filter(pk=ingestion_id, status=Ingestion.Status.QUEUED).update(
        status=Ingestion.Status.RUNNING, progressed=timezone.now()
    )
    if not claimed:  # gone, or taken or ended already
        return "skipped"
    ingestion = Ingestion.objects.select_related("workspace", "source", "created_by").get(
        pk=ingestion_id
    )
    report = _Reporter(ingestion.pk)
    try:
        report.begin(Ingestion.Step.PARSING)
        document = parse(
            bytes(ingestion.data),
            kind=ingestion.kind,
            filename=ingestion.filename,
            progress=report,
        )
        report.begin(Ingestion.Step.PASSAGES)
        passages = passages_of(document.text, report)
        report.begin(Ingestion.Step.STORING, len(passages))
        return _store(ingestion, document, passages)
    except SourceError as error:
        return _fail(ingestion_id, str(error))
    except Exception:
        logger.exception("Knowledge ingestion %s failed", ingestion_id)
        return _fail(ingestion_id, _("The document could not be stored (an error in the studio)."))


def _store(ingestion: Ingestion, document, passages) -> str:
    """The version and every passage, and the ingestion done, in one transaction; nothing if
    the sweep has failed it meanwhile."""
    with transaction.atomic():
        running = Ingestion.objects.select_for_update().filter(
            pk=ingestion.pk, status=Ingestion.Status.RUNNING
        )
        if not running.exists():
            return "skipped"
        if ingestion.source is None:
            version = add_source(
                workspace=ingestion.workspace,
                user=ingestion.created_by,
                title=ingestion.title,
                tags=ingestion.tags,
                document=document,
                passages=passages,
            )
        else:
            version = add_source_version(
                source=ingestion.source,
                user=ingestion.created_by,
                document=document,
                passages=passages,
            )
        running.update(
            status=Ingestion.Status.DONE,
            source=version.source,
            version=version,
            step=Ingestion.Step.STORING,
            done=len(passages),
            total=len(passages),
            percent=100,
            data=b"",
            progressed=timezone.now(),
        )
    return Ingestion.Status.DONE


def _fail(ingestion_id: int, error: str) -> str:
    Ingestion.objects.filter(pk=ingestion_id, status=Ingestion.Status.RUNNING).update(
        status=Ingestion.Status.FAILED, error=error[:2000], data=b"", progressed=timezone.now()
    )
    return Ingestion.Status.FAILED
