"""Prompt templates and their immutable versions.

A template is a name and a purpose; what it says lives in numbered versions that are never
edited in place, so every draft can record exactly which prompt produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .rendering import render_prompt


class PromptTemplateQuerySet(models.QuerySet["PromptTemplate"]):
    def for_workspace(self, workspace) -> PromptTemplateQuerySet:
        """The workspace's own templates plus the shared library (templates without a workspace)."""
        return self.filter(models.Q(workspace=workspace) | models.Q(workspace__isnull=True))

    def with_versions(self) -> PromptTemplateQuerySet:
        return self.prefetch_related("versions")


class PromptTemplate(models.Model):
    class Purpose(models.TextChoices):
        COPY = "copy", _("Marketing copy")
        EMAIL = "email", _("Email")
        ADS = "ads", _("Ad set")
        DOCS = "docs", _("Technical documentation")
        REWRITE = "rewrite", _("Rewrite / translate")

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

    def current_version(self) -> TemplateVersion | None:
        """The version the workspace uses: the newest one."""
        return self.versions.order_by("-number").first()


class TemplateVersion(models.Model):
    """One immutable revision of a template's prompts, variables and model presets."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    system_prompt = models.TextField(_("system message"))
    user_prompt = models.TextField(_("user message"))
    # [{"name", "label", "type", "required", "default", "help", "choices", "max_length"}]
    variables = models.JSONField(default=list)
    # Blank: the configured default model (DEEPSEEK_MODEL).
    model = models.CharField(max_length=64, blank=True)
    thinking = models.BooleanField(
        default=False, help_text=_("Let the model reason before answering (slower).")
    )
    temperature = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
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

    def build_messages(self, values: dict[str, object]) -> list[dict[str, str]]:
        """The chat messages for these form values: a system and a user message."""
        return [
            {"role": "system", "content": render_prompt(self.system_prompt, values)},
            {"role": "user", "content": render_prompt(self.user_prompt, values)},
        ]

    def generation_params(self) -> dict[str, object]:
        """Model and parameters for a generation, template presets over the settings."""
        params: dict[str, object] = {
            "model": self.model or settings.DEEPSEEK_MODEL,
            "max_tokens": self.max_tokens or settings.DEEPSEEK_MAX_TOKENS,
            "thinking": self.thinking,
        }
        if not self.thinking:  # thinking mode ignores temperature: don't pretend it applies
            params["temperature"] = (
                self.temperature if self.temperature is not None else settings.DEEPSEEK_TEMPERATURE
            )
        return params
