"""Prompt templates and their immutable versions.

A template is a name and a purpose; what it says lives in numbered versions that are never
edited in place, so every draft can record exactly which prompt produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from studio.ai import route_for

from ..constants import BRAND_VOICE, PRODUCTION, Purpose
from ..placeholders import placeholders, render_prompt
from ..variables import Variable


class ImmutableError(RuntimeError):
    """Versions are never edited in place: a change is a new version."""


class ImmutableModel(models.Model):
    """A row that is written once: saving it again raises instead of rewriting history."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableError(f"{type(self).__name__} {self.pk} is immutable.")
        super().save(*args, **kwargs)


class PromptTemplateQuerySet(models.QuerySet["PromptTemplate"]):
    def for_workspace(self, workspace) -> PromptTemplateQuerySet:
        """The workspace's own templates plus the shared library (templates without a workspace).
        One template: :meth:`PromptTemplate.is_offered_in`."""
        return self.filter(models.Q(workspace=workspace) | models.Q(workspace__isnull=True))

    def with_versions(self) -> PromptTemplateQuerySet:
        return self.prefetch_related("versions")

    def with_current_version(self) -> PromptTemplateQuerySet:
        """Prefetch each template's ``current_version()`` in one query for all of them."""
        production = Label.objects.filter(template=models.OuterRef("template"), name=PRODUCTION)
        newest = TemplateVersion.objects.filter(template=models.OuterRef("template"))
        current = TemplateVersion.objects.filter(
            pk=Coalesce(
                models.Subquery(production.values("version")[:1]),
                models.Subquery(newest.order_by("-number").values("pk")[:1]),
            )
        )
        return self.prefetch_related(
            models.Prefetch("versions", queryset=current, to_attr="prefetched_current")
        )

    def for_user(self, user) -> PromptTemplateQuerySet:
        """Templates of the user's workspaces plus the shared library."""
        if not user.is_authenticated:
            return self.none()
        mine = models.Q(workspace__memberships__user=user) | models.Q(workspace__isnull=True)
        return self.filter(mine).distinct()


class PromptTemplate(models.Model):
    Purpose = Purpose  # prompts.constants: the schema reads the choices without the models

    # Purposes whose text is marketing: the draft panel offers headline alternatives for them.
    MARKETING = (Purpose.COPY, Purpose.EMAIL, Purpose.ADS)

    # No workspace: part of the shared library every workspace can use.
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="templates",
    )
    slug = models.SlugField(max_length=80)
    name = models.CharField(_("name"), max_length=120)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = PromptTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "slug"], name="unique_template_slug_per_workspace"
            ),
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(workspace__isnull=True),
                name="unique_library_template_slug",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self, workspace=None) -> str:
        space = workspace.pk if workspace is not None else self.workspace_id
        return reverse("prompts:detail", args=[space, self.pk])

    @property
    def is_library(self) -> bool:
        return self.workspace_id is None

    def is_offered_in(self, workspace) -> bool:
        """Whether ``workspace`` may use it: ``PromptTemplateQuerySet.for_workspace``'s rule
        for one template already read (its own, or the shared library's)."""
        return self.is_library or self.workspace_id == workspace.pk

    def latest_version(self) -> TemplateVersion | None:
        return self.versions.order_by("-number").first()

    def labelled(self, name: str) -> TemplateVersion | None:
        label = self.labels.select_related("version").filter(name=name).first()
        return label.version if label else None

    def current_version(self) -> TemplateVersion | None:
        """The version the workspace uses: the one labelled ``production``, else the newest."""
        if hasattr(self, "prefetched_current"):  # with_current_version()
            return self.prefetched_current[0] if self.prefetched_current else None
        return self.labelled(PRODUCTION) or self.latest_version()

    def version_for(self, label: str | None = None) -> TemplateVersion | None:
        """The version a label points at; no label (or ``production``) is
        :meth:`current_version`. None for a label this template does not have."""
        if not label or label == PRODUCTION:
            return self.current_version()
        return self.labelled(label)

    def label_names(self) -> list[str]:
        """The names of this template's labels, ``production`` first, then A–Z."""
        names = sorted(label.name for label in self.labels.all())
        return sorted(names, key=lambda name: name != PRODUCTION)


class TemplateVersion(ImmutableModel):
    """One immutable revision of a template's prompts, variables and model presets."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    system_prompt = models.TextField(_("system message"))
    user_prompt = models.TextField(_("user message"))
    # [{"name", "type", "label", "help", "required", "default", "choices", "max_length",
    # "min", "max"}]: read it through ``variable_specs``, never by string key.
    variables = models.JSONField(default=list)
    # Blank: the configured default model (DEEPSEEK_MODEL).
    model = models.CharField(max_length=64, blank=True)
    thinking = models.BooleanField(
        default=False, help_text=_("Let the model reason before answering (slower).")
    )
    temperature = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    # The included style guide: its newest version fills {{ brand_voice }} at generation time,
    # so editing the voice once updates every template that includes it.
    brand_voice = models.ForeignKey(
        "BrandVoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set when one version of the voice is pinned instead of its newest: an experiment's
    # winner tested with an older voice version keeps exactly the text that won.
    brand_voice_version = models.ForeignKey(
        "BrandVoiceVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="unique_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    @cached_property
    def variable_specs(self) -> list[Variable]:
        """This version's variables as typed values (see ``prompts.variables``)."""
        return Variable.parse_all(self.variables)

    def voice_version(self) -> BrandVoiceVersion | None:
        """The brand voice version this version includes: the pinned one, else the voice's
        newest (None when no voice is included)."""
        if self.brand_voice_version_id is not None:
            return self.brand_voice_version
        return self.brand_voice.current_version() if self.brand_voice_id else None

    def brand_voice_text(self) -> str:
        """The included brand voice's text ('' when none is included)."""
        voice = self.voice_version()
        return voice.text if voice else ""

    def knowledge_variable(self) -> Variable | None:
        """The variable whose placeholder the workspace's passages fill (the first, should a
        version saved before the one-per-version rule hold two); None when not grounded."""
        return next((var for var in self.variable_specs if var.is_knowledge), None)

    def grounding_note(self) -> str:
        """What the knowledge variable draws from, for a note under the form ('' when the
        version is not grounded)."""
        var = self.knowledge_variable()
        if var is None:
            return ""
        drawn = [*var.tags, *var.sources]
        if not drawn:
            return str(_("Grounded in: every source of this workspace."))
        return str(_("Grounded in: %(sources)s.") % {"sources": ", ".join(drawn)})

    def build_messages(
        self,
        values: dict[str, object],
        *,
        brand_voice: str | None = None,
        knowledge: str = "",
    ) -> list[dict[str, str]]:
        """The chat messages for these form values: a system and a user message.

        ``brand_voice`` overrides the included voice's text (an experiment variant testing
        another voice version); form values never replace it. ``knowledge``: the numbered
        sources block (drafts.grounding) for the knowledge variable's placeholder; where the
        prompts have none, it is appended to the user message. Form values never fill it.
        """
        voice = self.brand_voice_text() if brand_voice is None else brand_voice
        values = {**values, BRAND_VOICE: voice}
        grounded = self.knowledge_variable()
        placed = False
        if grounded is not None:
            values[grounded.name] = knowledge
            prompts = (self.system_prompt, self.user_prompt)
            placed = any(grounded.name in placeholders(text) for text in prompts)
        user = render_prompt(self.user_prompt, values)
        if knowledge.strip() and not placed:
            user = f"{user.rstrip()}\n\n{knowledge.strip()}" if user.strip() else knowledge.strip()
        return [
            {"role": "system", "content": render_prompt(self.system_prompt, values)},
            {"role": "user", "content": user},
        ]

    def generation_params(self) -> dict[str, object]:
        """Model and parameters for a generation: the route for the template's purpose
        (fast non-thinking for copy, thinking for reasoning), then this version's presets."""
        route = route_for(
            self.template.purpose,
            model=self.model,
            thinking=True if self.thinking else None,  # False would force thinking off
            temperature=self.temperature,
        )
        return {"max_tokens": self.max_tokens or settings.DEEPSEEK_MAX_TOKENS, **route.params()}


class Label(models.Model):
    """A name (``production``, ``staging``…) pointing at one version of a template."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="labels")
    name = models.SlugField(_("label"), max_length=32)
    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="labels")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template", "name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="unique_label_per_template")
        ]

    def __str__(self) -> str:
        return f"{self.template} {self.name} → v{self.version.number}"


class LabelChange(ImmutableModel):
    """History: a label was set, moved or removed, by whom, why, and with what evidence."""

    template = models.ForeignKey(
        PromptTemplate, on_delete=models.CASCADE, related_name="label_changes"
    )
    name = models.SlugField(max_length=32)
    from_version = models.ForeignKey(
        TemplateVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_version = models.ForeignKey(
        TemplateVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    # An experiment's result when a winner was declared: votes, interval, p-value.
    evidence = models.JSONField(default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.template} {self.name}: {self.from_version} → {self.to_version}"


class BrandVoiceQuerySet(models.QuerySet["BrandVoice"]):
    def for_user(self, user) -> BrandVoiceQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(workspace__memberships__user=user)


class BrandVoice(models.Model):
    """A team's voice / style guide: one versioned text that templates include."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="brand_voices"
    )
    name = models.CharField(_("name"), max_length=120)
    created = models.DateTimeField(auto_now_add=True)

    objects = BrandVoiceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_voice_name")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("prompts:voice", args=[self.workspace_id, self.pk])

    def current_version(self) -> BrandVoiceVersion | None:
        return self.versions.order_by("-number").first()


class BrandVoiceVersion(ImmutableModel):
    voice = models.ForeignKey(BrandVoice, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(_("style guide"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["voice", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["voice", "number"], name="unique_voice_version")
        ]

    def __str__(self) -> str:
        return f"{self.voice} v{self.number}"
