"""Knowledge: a workspace's sources, their immutable versions, and the passages searched.

A ``Passage`` is the unit a generation will cite: its id is stable (a version's passages never
change; a new upload is a new version with passages of its own), and it knows its version and
source. ``terms`` is its text as the index sees it (segmenting.py); the database keeps the
index itself up to date (a trigger per engine, migration 0002): an FTS5 table on SQLite, the
``search_vector`` column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from studio.workspaces.models import Workspace

from . import parsing


class SourceQuerySet(models.QuerySet["Source"]):
    def for_user(self, user) -> SourceQuerySet:
        """Sources of the workspaces the user is a member of: the only ones they may see."""
        return self.filter(workspace__in=Workspace.objects.for_user(user))

    def active(self) -> SourceQuerySet:
        return self.filter(archived_at=None)


class Source(models.Model):
    """A document a workspace searches (and, later, grounds its drafts in)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="knowledge_sources"
    )
    title = models.CharField(_("title"), max_length=200)
    tags = models.JSONField(_("tags"), default=list, blank=True)  # ["pricing", "lumen"]
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("knowledge source")
        verbose_name_plural = _("knowledge sources")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledge:source", args=[self.workspace_id, self.pk])

    def current_version(self) -> SourceVersion | None:
        return self.versions.order_by("-number").first()

    def archive(self) -> None:
        """Hide it from search (its versions and passages stay: drafts may cite them)."""
        self.archived_at = timezone.now()
        self.save(update_fields=["archived_at"])

    def restore(self) -> None:
        self.archived_at = None
        self.save(update_fields=["archived_at"])


class SourceVersionQuerySet(models.QuerySet["SourceVersion"]):
    def current(self) -> SourceVersionQuerySet:
        """Each source's newest version only."""
        newest = SourceVersion.objects.filter(source=OuterRef("source")).order_by("-number")
        return self.filter(number=Subquery(newest.values("number")[:1]))


class SourceVersion(models.Model):
    """One upload of a source: its text never changes; re-uploading makes the next number."""

    class Kind(models.TextChoices):
        MARKDOWN = parsing.Kind.MARKDOWN, "Markdown"
        TEXT = parsing.Kind.TEXT, _("Plain text")
        HTML = parsing.Kind.HTML, "HTML"
        DOCX = parsing.Kind.DOCX, "DOCX"
        PDF = parsing.Kind.PDF, "PDF"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    filename = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    text = models.TextField()  # the extracted text, sanitized: what the passages come from
    size = models.PositiveIntegerField()  # bytes received
    pages = models.PositiveIntegerField(null=True, blank=True)  # a PDF's
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = SourceVersionQuerySet.as_manager()

    class Meta:
        ordering = ["source", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "number"], name="one_knowledge_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} v{self.number}"

    def get_absolute_url(self) -> str:
        return f"{self.source.get_absolute_url()}?version={self.number}"


class PassageQuerySet(models.QuerySet["Passage"]):
    def for_user(self, user) -> PassageQuerySet:
        return self.filter(version__source__in=Source.objects.for_user(user))

    def searchable(self, workspace: Workspace) -> PassageQuerySet:
        """What a search of the workspace looks through: the current version of each of its
        sources that is not archived."""
        current = SourceVersion.objects.current().filter(
            source__workspace=workspace, source__archived_at=None
        )
        return self.filter(version__in=current)


class Passage(models.Model):
    """A bounded piece of a version's text under its heading: what a search finds and a
    generation cites (by id, with its version and source)."""

    version = models.ForeignKey(SourceVersion, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField()  # 0, 1, … in the version's text
    heading = models.CharField(max_length=300, blank=True)  # "Setup › Pairing"
    text = models.TextField()
    terms = models.TextField()  # heading and text with CJK bigrams (segmenting.index_text)
    # PostgreSQL's index (a trigger fills it from ``terms``); unused and empty on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PassageQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="one_passage_position")
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.position}"

    def get_absolute_url(self) -> str:
        return f"{self.version.get_absolute_url()}#passage-{self.pk}"


class IngestionQuerySet(models.QuerySet["Ingestion"]):
    def for_user(self, user) -> IngestionQuerySet:
        return self.filter(workspace__in=Workspace.objects.for_user(user))

    def unfinished(self) -> IngestionQuerySet:
        """Queued, running, or failed in the last day: what the knowledge pages list."""
        since = timezone.now() - timedelta(days=1)
        return (
            self.defer("data")
            .exclude(status=Ingestion.Status.DONE)
            .exclude(status=Ingestion.Status.FAILED, progressed__lt=since)
        )

    def stalled(self, *, now=None) -> IngestionQuerySet:
        """Running with no progress for KNOWLEDGE_INGEST_STALL_SECONDS: its worker stopped."""
        cutoff = (now or timezone.now()) - timedelta(
            seconds=settings.KNOWLEDGE_INGEST_STALL_SECONDS
        )
        return self.filter(status=Ingestion.Status.RUNNING, progressed__lt=cutoff)


class Ingestion(models.Model):
    """A document being read by the background worker (``tasks.ingest``): too long to parse
    in a request. It holds the upload until it is read, and the progress the page shows; the
    source version it makes is stored in one transaction when it is done, so a failed or
    stopped ingestion leaves nothing searchable."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the background worker")
        RUNNING = "running", _("Reading")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Step(models.TextChoices):
        PARSING = "parsing", _("Reading the document")
        PASSAGES = "passages", _("Splitting into passages")
        STORING = "storing", _("Storing the passages")

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="knowledge_ingestions"
    )
    # The source it is a new version of; None: a new source (made when it is done).
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="ingestions"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    kind = models.CharField(max_length=16, choices=SourceVersion.Kind.choices)
    filename = models.CharField(max_length=255, blank=True)
    data = models.BinaryField(blank=True, editable=False)  # the upload; emptied once read
    size = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=16, choices=Step.choices, blank=True)
    done = models.PositiveIntegerField(default=0)  # pages or parts read, passages split
    total = models.PositiveIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)  # why it failed, for the uploader
    version = models.ForeignKey(
        SourceVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    progressed = models.DateTimeField(default=timezone.now)

    objects = IngestionQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.filename or self.title or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("knowledge:ingestion", args=[self.workspace_id, self.pk])

    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def is_stalled(self) -> bool:
        """Running, but silent for longer than a live worker ever is (shown as stopped; the
        sweep marks it failed)."""
        cutoff = timezone.now() - timedelta(seconds=settings.KNOWLEDGE_INGEST_STALL_SECONDS)
        return self.status == self.Status.RUNNING and self.progressed < cutoff
