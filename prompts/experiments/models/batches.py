"""Batch experiments: an experiment's variants run over a saved set of inputs (a CSV), in the
background, then reviewed in blind pairs and, optionally, scored by a model against a rubric."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .experiments import ExperimentRun, VariantRun


class BatchQuerySet(models.QuerySet["Batch"]):
    def for_user(self, user) -> BatchQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(experiment__workspace__memberships__user=user)

    def in_workspace(self, workspace) -> BatchQuerySet:
        return self.filter(experiment__workspace=workspace)


class Batch(models.Model):
    """A set of input rows; running it generates every row × variant as a side-by-side run."""

    class Status(models.TextChoices):
        READY = "ready", _("Ready to run")
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="batches"
    )
    name = models.CharField(_("name"), max_length=120)
    source_name = models.CharField(max_length=200, blank=True)  # the uploaded file's name
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    # Progress, counted in outputs (rows × variants); written by the task as it goes.
    total = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Who clicked "Run batch", from where (IP, session tag): copied onto each output's audit row.
    origin = models.JSONField(default=dict, blank=True)
    # LLM-as-judge: the editor's rubric, and the judging task's own progress.
    rubric = models.TextField(_("rubric"), blank=True, max_length=4000)
    judge_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    judge_total = models.PositiveIntegerField(default=0)
    judge_done = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # The last sign of life from the worker (started, an output counted, a row finished): a
    # running batch without one for BATCH_STALE_AFTER seconds is stale and may be resumed.
    progressed = models.DateTimeField(null=True, blank=True)
    # Bumped by each start or resume; a task of an older attempt stops at its next row.
    attempt = models.PositiveIntegerField(default=0)

    objects = BatchQuerySet.as_manager()

    class Meta:
        db_table = "prompts_batch"  # the table it had in the prompts app
        ordering = ["-created", "-pk"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("prompts:batch", args=[self.experiment.workspace_id, self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def last_progress(self) -> datetime:
        return self.progressed or self.started or self.created

    @property
    def is_stale(self) -> bool:
        """Queued or running, but with no progress for ``BATCH_STALE_AFTER`` seconds."""
        limit = timedelta(seconds=settings.BATCH_STALE_AFTER)
        return self.is_active and timezone.now() - self.last_progress > limit

    @property
    def is_judging(self) -> bool:
        return self.judge_status in self.ACTIVE

    @property
    def processed(self) -> int:
        return self.done_count + self.failed_count

    @property
    def percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 0

    def runs(self) -> models.QuerySet[ExperimentRun]:
        """The side-by-side runs this batch produced, one per row (so far)."""
        return ExperimentRun.objects.filter(batch_row__batch=self)

    def outputs(self) -> models.QuerySet[VariantRun]:
        return VariantRun.objects.filter(run__batch_row__batch=self)


class BatchRow(models.Model):
    """One line of the CSV: the inputs every variant answers, and how that went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()  # the line in the uploaded file (the header is line 1)
    inputs = models.JSONField(default=dict)
    run = models.OneToOneField(
        ExperimentRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="batch_row"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "prompts_batchrow"  # the table it had in the prompts app
        ordering = ["batch", "line"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="unique_batch_line"),
        ]

    def __str__(self) -> str:
        return f"{self.batch} line {self.line}"


class JudgeScore(models.Model):
    """A model's 1–10 score of one output against the batch's rubric: never a vote."""

    class Status(models.TextChoices):
        SCORED = "scored", _("Scored")
        UNPARSEABLE = "unparseable", _("Unparseable reply")
        FAILED = "failed", _("Call failed")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="judge_scores")
    output = models.OneToOneField(VariantRun, on_delete=models.CASCADE, related_name="judge_score")
    status = models.CharField(max_length=16, choices=Status.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    raw = models.TextField(blank=True)  # the model's reply as it came, for the unparseable ones
    rubric = models.TextField(blank=True)  # the rubric this score was given against
    model = models.CharField(max_length=64, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "prompts_judgescore"  # the table it had in the prompts app
        ordering = ["batch", "output"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=10),
                name="judge_score_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.output}: {self.score}"
