"""A/B experiments: variants of a prompt, side-by-side runs, and blind votes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from prompts.models import PRODUCTION, BrandVoiceVersion, LabelChange, TemplateVersion


class ExperimentQuerySet(models.QuerySet["Experiment"]):
    def for_user(self, user) -> ExperimentQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(workspace__memberships__user=user)

    def single_variant_of(self, workspace_id: int, template_id: int) -> QuerySet[Experiment]:
        """The newest running single-variant experiment of the workspace with a variant of
        the template (at most that one row): the one that decides what generating from that
        template runs. By the two keys, a shape the Generate compiles once
        (``prompts.experiments.actions``)."""
        return (
            self.filter(
                workspace_id=workspace_id,
                mode=Experiment.Mode.SINGLE,
                status=Experiment.Status.RUNNING,
                variants__version__template_id=template_id,
            )
            .distinct()
            .order_by(*Experiment._meta.ordering)[:1]
        )


class Experiment(models.Model):
    """Two or more variants compared on the same form inputs."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")
        ARCHIVED = "archived", _("Archived")

    class Mode(models.TextChoices):
        SIDE_BY_SIDE = "side_by_side", _("Side by side: every variant at once, editors vote")
        SINGLE = "single", _("Single variant: each editor gets one variant in the workspace")

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="experiments"
    )
    name = models.CharField(_("name"), max_length=120)
    hypothesis = models.CharField(_("hypothesis"), max_length=300, blank=True)
    # Blind review: columns shuffled and labelled A/B/C until the editor has voted.
    blind = models.BooleanField(_("blind review"), default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # Single variant: generating in the workspace (or the API) from one of the experiment's
    # templates runs the variant assigned to the user (prompts.experiments.assignment), tagged
    # with it.
    mode = models.CharField(
        _("mode"), max_length=16, choices=Mode.choices, default=Mode.SIDE_BY_SIDE
    )
    winner = models.ForeignKey(
        "Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        db_table = "prompts_experiment"  # the table it had in the prompts app
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("prompts:experiment", args=[self.workspace_id, self.pk])

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def is_single_variant(self) -> bool:
        return self.mode == self.Mode.SINGLE

    def promoted_version(self) -> TemplateVersion | None:
        """The version declaring this experiment's winner moved ``production`` to (the
        winner's own, or the new one that bakes in its overrides); None before that."""
        change = (
            LabelChange.objects.filter(name=PRODUCTION, evidence__experiment=self.pk)
            .select_related("to_version")
            .first()
        )
        return change.to_version if change else None

    def form_version(self) -> TemplateVersion | None:
        """Whose variables make the shared form: the first variant's version."""
        first = self.variants.select_related("version__template").first()
        return first.version if first else None


class Variant(models.Model):
    """One arm: a template version, optionally with another model, temperature or voice."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(_("name"), max_length=60)
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="+")
    model = models.CharField(_("model override"), max_length=64, blank=True)
    temperature = models.FloatField(_("temperature override"), null=True, blank=True)
    brand_voice_version = models.ForeignKey(
        BrandVoiceVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    weight = models.PositiveIntegerField(_("weight"), default=1)

    class Meta:
        db_table = "prompts_variant"  # the table it had in the prompts app
        ordering = ["experiment", "pk"]

    def __str__(self) -> str:
        return self.name

    def describe(self, model: str = "", temperature: object = None) -> str:
        """What this variant is, less what its name already says: "v2 · t=0.3" for a variant
        named "Chilled", "" for one named "v2 · t=0.3" (the default name is that very text).

        ``model``, ``temperature``: as a generation ran (the run page); else the overrides.
        """
        model = model or self.model
        temperature = self.temperature if temperature is None else temperature
        parts = [f"v{self.version.number}", model]
        if temperature is not None:
            parts.append(f"t={float(temperature):g}")
        if self.brand_voice_version_id:
            parts.append(str(self.brand_voice_version))
        said = {part.strip() for part in self.name.split("·")} | {self.name.strip()}
        return " · ".join(p for p in parts if p and p not in said)

    @property
    def details(self) -> str:
        """:meth:`describe` of the variant as configured: what to show beside its name."""
        return self.describe()

    @property
    def label(self) -> str:
        """Its name, with what the name does not already say: "Chilled (v2 · t=0.3)", "v2"."""
        details = self.details
        return f"{self.name} ({details})" if details else self.name

    def overrides(self) -> dict[str, object]:
        """What this variant changes in its version, as :class:`TemplateVersion` fields (empty
        for a plain version): a model, a temperature, a brand voice version."""
        version, changed = self.version, {}
        params, own = self.generation_params(), version.generation_params()
        if self.model and params["model"] != own["model"]:
            changed["model"] = self.model
        # Compared as sent: a temperature a thinking version ignores changes nothing.
        if self.temperature is not None and params.get("temperature") != own.get("temperature"):
            changed["temperature"] = self.temperature
        voice = self.brand_voice_version
        if voice is not None and voice != version.voice_version():
            # The voice's newest version is included as the voice (it follows later edits,
            # like any template's); an older one is pinned, so the text that won stays.
            newest = voice.voice.current_version()
            changed["brand_voice"] = voice.voice
            changed["brand_voice_version"] = None if voice == newest else voice
        return changed

    def generation_params(self) -> dict[str, object]:
        params = self.version.generation_params()
        if self.model:
            params["model"] = self.model
        if self.temperature is not None and not params.get("thinking"):
            params["temperature"] = self.temperature
        return params

    def build_messages(
        self, values: dict[str, object], knowledge: str = ""
    ) -> list[dict[str, str]]:
        voice = self.brand_voice_version.text if self.brand_voice_version_id else None
        return self.version.build_messages(values, brand_voice=voice, knowledge=knowledge)


class ExperimentRunQuerySet(models.QuerySet["ExperimentRun"]):
    def recent_with_votes(self, user) -> ExperimentRunQuerySet:
        """Runs made on the experiment page (a batch's rows are reviewed in its queue),
        newest first, with their vote count and whether ``user`` voted.

        Ordered here, not by ``Meta.ordering``: Django drops that once ``Count`` groups rows.
        """
        return (
            self.filter(batch_row__isnull=True)
            .annotate(
                vote_count=models.Count("votes", distinct=True),
                my_votes=models.Count("votes", filter=models.Q(votes__voter=user), distinct=True),
            )
            .order_by("-created", "-pk")
        )


class ExperimentRun(models.Model):
    """One click of side-by-side: every variant generated on the same inputs."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    inputs = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = ExperimentRunQuerySet.as_manager()

    class Meta:
        db_table = "prompts_experimentrun"  # the table it had in the prompts app
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.experiment} run {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("prompts:run", args=[self.experiment.workspace_id, self.pk])


class VariantRun(models.Model):
    """A variant's generation within a run, and the column it is shown in."""

    run = models.ForeignKey(ExperimentRun, on_delete=models.CASCADE, related_name="columns")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="runs")
    generation = models.OneToOneField(
        "drafts.Generation", on_delete=models.CASCADE, related_name="variant_run"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "prompts_variantrun"  # the table it had in the prompts app
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="unique_run_column"),
            models.UniqueConstraint(fields=["run", "variant"], name="unique_run_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.run} column {self.position}"

    @property
    def letter(self) -> str:
        return "ABCDEFGHIJ"[self.position]


class Vote(models.Model):
    class Choice(models.TextChoices):
        VARIANT = "variant", _("This one")
        TIE = "tie", _("Tie")
        BOTH_BAD = "both_bad", _("Both bad")

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="votes")
    run = models.ForeignKey(
        ExperimentRun, on_delete=models.CASCADE, null=True, blank=True, related_name="votes"
    )
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=16, choices=Choice.choices)
    winner = models.ForeignKey(
        Variant, on_delete=models.CASCADE, null=True, blank=True, related_name="wins"
    )
    # Variant ids left to right as the voter saw them (side-bias checks).
    shown_order = models.JSONField(default=list)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "prompts_vote"  # the table it had in the prompts app
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "voter"], name="one_vote_per_run_and_voter"),
            models.CheckConstraint(
                condition=models.Q(choice="variant", winner__isnull=False)
                | models.Q(~models.Q(choice="variant"), winner__isnull=True),
                name="winner_only_for_variant_votes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter}: {self.choice}"
