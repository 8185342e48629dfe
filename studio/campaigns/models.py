"""Campaigns: a brief and the deliverables generated from it.

A ``Campaign`` is a workspace's brief (product, audience, offer, dates, key message, free
text) with an owner. Each ``Deliverable`` is a template version and a channel, with how many
items it asks for and its own variable overrides; once generated it points at its draft.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from drafts.models import Draft
from studio.workspaces.models import Workspace

from .channels import BUILT_IN, CTA, LINK, Channel, Report, check
from .labels import CHANNEL_CHOICES, channel_name
from .voices import forbidden_words

REVIEW_STATES = [
    ("draft", _("Draft")),
    ("in_review", _("In review")),
    ("changes_requested", _("Changes requested")),
    ("approved", _("Approved")),
]


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def for_user(self, user) -> CampaignQuerySet:
        """Campaigns of the workspaces the user is a member of: the only ones they may see."""
        return self.filter(workspace__in=Workspace.objects.for_user(user))

    def for_listing(self) -> CampaignQuerySet:
        """With the owner and the deliverables' count, newest first (a query that counts
        groups its rows, and Django leaves Meta.ordering out of it)."""
        counted = self.annotate(deliverable_count=models.Count("deliverables"))
        return counted.select_related("owner").order_by(*Campaign._meta.ordering)


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
    # The brand voice every deliverable writes in (its newest version), and the knowledge
    # every deliverable is grounded in: sources picked by name and/or sources carrying any
    # of the tags (``grounding_scope``). Nothing picked: the templates' own.
    brand_voice = models.ForeignKey(
        "prompts.BrandVoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand voice"),
    )
    knowledge_sources = models.ManyToManyField(
        "knowledge.Source", blank=True, related_name="+", verbose_name=_("knowledge sources")
    )
    knowledge_tags = models.JSONField(_("knowledge tags"), default=list, blank=True)
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

    def brief_text(self) -> str:
        """The brief as one text: the retrieval query of its grounding."""
        fields = (self.product, self.audience, self.offer, self.key_message, self.notes)
        return "\n".join(value.strip() for value in fields if value.strip())

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """The workspace's effective channel rules (built-in, or its overrides): read once
        per campaign object, so a board's rows share one query."""
        return ChannelRule.objects.effective(self.workspace_id)

    @cached_property
    def voice_text(self) -> str:
        """The brand voice's newest text ('' without one)."""
        if self.brand_voice_id is None:
            return ""
        version = self.brand_voice.current_version() if self.brand_voice else None
        return version.text if version else ""

    @cached_property
    def knowledge_titles(self) -> tuple[str, ...]:
        """The titles of the sources picked (what grounding's scope names them by)."""
        return tuple(self.knowledge_sources.values_list("title", flat=True))

    @cached_property
    def forbidden(self) -> tuple[str, ...]:
        """The brand voice's forbidden words: a channel rule for every deliverable."""
        return forbidden_words(self.voice_text)


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
    # Whether this deliverable writes in the campaign's brand voice and is grounded in its
    # knowledge (both on unless the deliverable opts out).
    use_voice = models.BooleanField(_("use the campaign's brand voice"), default=True)
    use_knowledge = models.BooleanField(_("ground in the campaign's knowledge"), default=True)
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # Review (``review.py``): its state, and who last submitted it (the self-approval rule).
    review_state = models.CharField(
        _("review state"), max_length=20, choices=REVIEW_STATES, default="draft"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

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
        """The channel's effective rules in the campaign's workspace."""
        return self.campaign.channels.get(self.channel) or BUILT_IN[self.channel]

    @property
    def forbidden(self) -> tuple[str, ...]:
        """The forbidden words this deliverable is checked for: its voice's, if it uses it."""
        return self.campaign.forbidden if self.use_voice else ()

    def check_text(self, text: str) -> Report:
        """The channel's check of ``text``, against the number of items asked for and the
        brand voice's forbidden words."""
        rules = self.rules
        count = self.count if rules.is_list else None
        return check(rules, text, count=count, forbidden=self.forbidden)


# Per-workspace channel rules (issue 21, item 3): an override replaces a built-in channel's
# editable limits in one workspace; no row is the built-in rule.


class ChannelRuleQuerySet(models.QuerySet["ChannelRule"]):
    def effective(self, workspace_id: int) -> dict[str, Channel]:
        """Every channel's rules in the workspace: its override, else the built-in."""
        rules = dict(BUILT_IN)
        for override in self.filter(workspace_id=workspace_id):
            if override.channel in rules:
                rules[override.channel] = override.apply(rules[override.channel])
        return rules


class ChannelRule(models.Model):
    """A workspace's override of one built-in channel's limits (how it counts stays the
    platform's): characters per item (blank: no length rule; SMS: one message, 160 or 70),
    how many items, the required call to action and link, and whether emoji are allowed."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channel_rules")
    channel = models.CharField(_("channel"), max_length=32, choices=CHANNEL_CHOICES)
    limit = models.PositiveIntegerField(_("characters per item"), null=True, blank=True)
    max_items = models.PositiveSmallIntegerField(_("items at most"))
    requires_cta = models.BooleanField(_("requires a call to action"), default=False)
    requires_link = models.BooleanField(_("requires a link"), default=False)
    emoji = models.BooleanField(_("emoji allowed"), default=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ChannelRuleQuerySet.as_manager()

    class Meta:
        ordering = ["workspace", "channel"]
        verbose_name = _("channel rule")
        verbose_name_plural = _("channel rules")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "channel"], name="one_rule_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.workspace}: {self.channel}"

    def apply(self, channel: Channel) -> Channel:
        """``channel`` with this override's limits."""
        requires = tuple(
            element
            for element, wanted in ((CTA, self.requires_cta), (LINK, self.requires_link))
            if wanted
        )
        return replace(
            channel,
            limit=self.limit,
            max_items=self.max_items,
            requires=requires,
            emoji=self.emoji,
        )


# Review (issue 21, item 4): the deliverable's state, its comments, the campaign's activity.
# The transitions themselves are in ``review.py``; these are the rows they write.


class ReviewPolicy(models.Model):
    """A workspace's review setting: whether an editor may approve what they submitted."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="review_policy"
    )
    no_self_approval = models.BooleanField(
        _("editors cannot approve their own work"), default=False
    )

    class Meta:
        verbose_name = _("review policy")

    def __str__(self) -> str:
        return f"{self.workspace}: no self-approval={self.no_self_approval}"

    @classmethod
    def forbids_self_approval(cls, workspace: Workspace) -> bool:
        return cls.objects.filter(workspace=workspace, no_self_approval=True).exists()


class CommentQuerySet(models.QuerySet["Comment"]):
    def for_user(self, user) -> CommentQuerySet:
        return self.filter(deliverable__in=Deliverable.objects.for_user(user))


class Comment(models.Model):
    """A comment on a deliverable's draft: on the whole, or on a selection of its text (the
    quoted text and its offsets in the version commented on); a reply names its parent."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=4000)
    quote = models.TextField(_("selection"), max_length=2000, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return self.body[:60]


class ActivityQuerySet(models.QuerySet["Activity"]):
    def for_user(self, user) -> ActivityQuerySet:
        return self.filter(campaign__in=Campaign.objects.for_user(user))

    def for_feed(self) -> ActivityQuerySet:
        return self.select_related("actor", "deliverable", "comment").order_by("-pk")


class Activity(models.Model):
    """One line of a campaign's activity feed: a state change or a comment."""

    class Kind(models.TextChoices):
        STATE = "state", _("State change")
        COMMENT = "comment", _("Comment")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="activity")
    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=REVIEW_STATES, blank=True)
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activity")

    def __str__(self) -> str:
        return f"{self.campaign}: {self.kind} {self.state}"
