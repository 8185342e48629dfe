"""Background work for knowledge (django.tasks; the worker is ``manage.py db_worker``): a
document too long to read in a request (``ingesting``). Arguments are ids (a JSON round trip)."""

from __future__ import annotations

from django.tasks import task
from django.utils import translation

from . import ingesting


@task
def ingest(ingestion_id: int, language: str = "") -> str:
    """Read and store a queued ingestion, its messages in the uploader's ``language``."""
    with translation.override(language or None):
        return ingesting.ingest(ingestion_id)
