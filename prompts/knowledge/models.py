"""Knowledge: a workspace's sources, their immutable versions, and the passages searched.

A ``Passage`` is the unit a generation will cite: its id is stable (a version's passages never
change; a new upload is a new version with passages of its own), and it knows its version and
source. ``terms`` is its text as the index sees it (segmenting.py); the database keeps the
index itself up to date (a trigger per engine, migration 0002): an FTS5 table on SQLite, the
``search_vector`` column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

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
