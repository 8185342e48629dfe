"""Campaigns: a brief and the deliverables generated from it.

A ``Campaign`` is a workspace's brief (product, audience, offer, dates, key message, free
text) with an owner. Each ``Deliverable`` is a template version and a channel, with how many
items it asks for and its own variable overrides; once generated it points at its draft.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from drafts.models import Draft
from studio.workspaces.models import Workspace

from .channels import BUILT_IN, Channel, Report, check
from .labels import CHANNEL_CHOICES, channel_name


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def for_user(self, user) -> CampaignQuerySet:
        """Campaigns of the workspaces the user is a member of: the only ones they may see."""
        return self.filter(workspace__in=Workspace.objects.for_user(user))

    def for_listing(self) -> CampaignQuerySet:
        return self.select_related("owner").annotate(deliverable_count=models.Count("deliverables"))


class Campaign(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    title = models.CharField(_("title"), max_length=200)
    product = models.CharField(_("product"), max_length=200, blank=True)
    audience = models.CharField(_("audience"), max_length=300, blank=True)
    offer = models.CharField(_("offer"), max_length=300, blank=True)
    key_message = models.CharField(_("key message"), max_length=500, blank=True)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    notes = models.TextField(_("brief"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-updated", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.pk])

    def dates(self) -> str:
        """The campaign's dates as one text ("2027-03-01 – 2027-03-31"; blank if none)."""
        ends = [str(day) for day in (self.starts_on, self.ends_on) if day]
        return " – ".join(ends)

    def brief(self) -> dict[str, str]:
        """The brief's fields by name: what fills the templates' variables (``filling``)."""
        return {
            "product": self.product,
            "audience": self.audience,
            "offer": self.offer,
            "key_message": self.key_message,
            "dates": self.dates(),
            "notes": self.notes,
        }


class DeliverableQuerySet(models.QuerySet["Deliverable"]):
    def for_user(self, user) -> DeliverableQuerySet:
        return self.filter(campaign__workspace__in=Workspace.objects.for_user(user))

    def for_board(self) -> DeliverableQuerySet:
        return self.select_related("template_version__template", "draft")


class Deliverable(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliverables")
    # The template version it generates with (a deleted template leaves the deliverable,
    # without one, to be given another).
    template_version = models.ForeignKey(
        "prompts.TemplateVersion",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("template"),
    )
    channel = models.CharField(_("channel"), max_length=32, choices=CHANNEL_CHOICES)
    count = models.PositiveSmallIntegerField(_("items"), default=1)
    # Variable name → value, winning over what the brief fills in.
    overrides = models.JSONField(_("overrides"), default=dict, blank=True)
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = DeliverableQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "pk"]
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")

    def __str__(self) -> str:
        return f"{self.campaign}: {self.channel_name}"

    @property
    def channel_name(self) -> str:
        return channel_name(self.channel)

    @property
    def rules(self) -> Channel:
        return BUILT_IN[self.channel]

    def check_text(self, text: str) -> Report:
        """The channel's check of ``text``, against the number of items asked for."""
        return check(self.rules, text, count=self.count if self.rules.is_list else None)
