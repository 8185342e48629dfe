"""Drafts, their immutable numbered versions, and the generations that produce text."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prompts.models.templates import ImmutableModel, PromptTemplate
from studio.audit.models import AuditLog
from studio.audit.origin import Origin

from .errors import translated


class DraftQuerySet(models.QuerySet["Draft"]):
    def for_user(self, user) -> DraftQuerySet:
        """Drafts in the user's workspaces: another user's draft is simply not found.

        A deleted draft (in its workspace's trash) is not found either: every page, the API
        and the share links reach drafts through here. Only the trash (``in_trash``, from the
        workspace) sees them.
        """
        if not user.is_authenticated:
            return self.none()
        return self.alive().filter(workspace__memberships__user=user)

    def alive(self) -> DraftQuerySet:
        """Drafts not deleted: what every list, count and search shows."""
        return self.filter(deleted_at=None)

    def not_from_experiments(self) -> DraftQuerySet:
        """Drafts no side-by-side experiment run wrote (a run, a batch row): those are an
        experiment's evidence, reviewed on its pages, and would flood the lists. A single-
        variant experiment's drafts stay: they are people's own work, only tagged."""
        # By the column's mode, a string: experiments sit above drafts and are not imported.
        written = Generation.objects.filter(variant_run__run__experiment__mode="side_by_side")
        return self.exclude(pk__in=written.values("draft_id"))

    def in_trash(self) -> DraftQuerySet:
        """Deleted drafts, most recently deleted first: the workspace's trash."""
        return self.exclude(deleted_at=None).order_by("-deleted_at", "-pk")

    def with_latest_generation(self) -> DraftQuerySet:
        # The draft's own status: a suggestion's generation (a rewrite of a part) is not it.
        whole = Generation.objects.filter(draft=models.OuterRef("pk")).whole_draft()
        latest = whole.order_by("-pk")
        return self.annotate(
            latest_status=models.Subquery(latest.values("status")[:1]),
            version_count=models.Count("versions", distinct=True),
        )

    def with_panel_flags(self) -> DraftQuerySet:
        """With what the draft panel asks before it reads more, in the draft's own query:
        whether a share link works, a suggestion is open, and its template is for marketing
        text (``has_working_shares``, ``has_open_suggestions``, ``offers_headlines``). Each
        asked alone is a query of its own, mostly answered "no" (docs/decisions/0039-*.md)."""
        marketing = PromptTemplate.objects.filter(
            versions=models.OuterRef("template_version_id"),
            purpose__in=PromptTemplate.MARKETING,
        )
        return self.annotate(
            panel_shares=models.Exists(
                ShareLink.objects.active().filter(draft=models.OuterRef("pk"))
            ),
            panel_suggestions=models.Exists(
                Suggestion.objects.open().filter(draft=models.OuterRef("pk"))
            ),
            panel_marketing=models.Exists(marketing),
        )

    def recent(self) -> DraftQuerySet:
        """Most recently updated first, with status and version count: the workspace's list.

        Ordered here, not by ``Meta.ordering``: Django drops that once ``Count`` groups rows.
        """
        return self.with_latest_generation().order_by("-updated", "-pk")

    def search(self, query: str) -> DraftQuerySet:
        """Drafts whose title or any version's text contains ``query`` (case-insensitive)."""
        if not query:
            return self
        in_text = DraftVersion.objects.filter(draft=models.OuterRef("pk"), text__icontains=query)
        return self.filter(models.Q(title__icontains=query) | models.Exists(in_text))

    def filtered(
        self,
        *,
        template: int | None = None,
        author: int | None = None,
        variant: int | None = None,
        status: str = "",
    ) -> DraftQuerySet:
        """The drafts list's filters; a filter left out (None or blank) matches everything."""
        qs = self
        if template:
            qs = qs.filter(template_version__template_id=template)
        if author:
            qs = qs.filter(created_by_id=author)
        if variant:  # a generation of the draft ran that experiment variant
            runs = Generation.objects.filter(
                draft=models.OuterRef("pk"), variant_run__variant_id=variant
            )
            qs = qs.filter(models.Exists(runs))
        if status:
            qs = qs.filter(status=status)
        return qs

    def for_listing(self) -> DraftQuerySet:
        """What a list row shows, in the same query: template, author, latest version, status.

        Subqueries rather than joins with COUNT, so filters and search never multiply rows.
        """
        latest = DraftVersion.objects.filter(draft=models.OuterRef("pk")).order_by("-number")
        generation = Generation.objects.filter(draft=models.OuterRef("pk")).whole_draft()
        generation = generation.order_by("-pk")
        return self.select_related("created_by", "template_version__template").annotate(
            latest_number=models.Subquery(latest.values("number")[:1]),
            excerpt=Substr(models.Subquery(latest.values("text")[:1]), 1, 200),
            latest_status=models.Subquery(generation.values("status")[:1]),
        )


class Draft(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        APPROVED = "approved", _("Approved")
        ARCHIVED = "archived", _("Archived")

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="drafts"
    )
    title = models.CharField(_("title"), max_length=200)
    template_version = models.ForeignKey(
        "prompts.TemplateVersion", on_delete=models.SET_NULL, null=True, related_name="drafts"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafts"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Soft delete: set, the draft sits in its workspace's trash (versions, generations and
    # audit rows kept) until it is restored or deleted for good.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deleted by"),
    )

    objects = DraftQuerySet.as_manager()

    class Meta:
        ordering = ["-updated", "-pk"]
        indexes = [models.Index(fields=["workspace", "-updated"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("drafts:detail", args=[self.pk])

    def latest_version(self) -> DraftVersion | None:
        return self.versions.order_by("-number").first()

    def offers_headlines(self) -> bool:
        """Headline alternatives suit marketing text: offered unless the draft's template has
        another purpose (technical documentation, rewriting). One query at most; none when
        read ``with_panel_flags()``."""
        if self.template_version_id is None:
            return True  # written by hand: nothing says it is not marketing text
        if (marketing := self.__dict__.get("panel_marketing")) is not None:
            return marketing
        purpose = PromptTemplate.objects.filter(versions=self.template_version_id)
        return purpose.filter(purpose__in=PromptTemplate.MARKETING).exists()

    def has_working_shares(self) -> bool:
        """Whether a share link to it works (none when read ``with_panel_flags()``)."""
        if (shares := self.__dict__.get("panel_shares")) is not None:
            return shares
        return self.share_links.active().exists()

    def has_open_suggestions(self) -> bool:
        """Whether a suggestion on it is open (none when read ``with_panel_flags()``)."""
        if (open_ := self.__dict__.get("panel_suggestions")) is not None:
            return open_
        return self.suggestions.open().exists()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_user(self, user) -> GenerationQuerySet:
        """Generations of the user's drafts (a deleted draft's are not found: see Draft's)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(draft__workspace__memberships__user=user, draft__deleted_at=None)

    def whole_draft(self) -> GenerationQuerySet:
        """Generations that write a whole draft, not a suggestion for part of it."""
        return self.exclude(pk__in=Suggestion.objects.values("generation_id"))

    def active(self) -> GenerationQuerySet:
        """Queued or running: what a Stop can still end."""
        return self.filter(status__in=Generation.ACTIVE)

    def from_a_form(self) -> GenerationQuerySet:
        """Whole-draft generations made from a template's form, the newest first: the first
        holds the inputs (and template version) a reopened draft fills the form with."""
        return (
            self.whole_draft()
            .filter(template_version__isnull=False)
            .select_related("template_version__template")
            .order_by("-created", "-pk")
        )


class Generation(models.Model):
    """One call to the model: what was asked, what came back, and how it went."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Generating")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Stopped")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="generations")
    template_version = models.ForeignKey(
        "prompts.TemplateVersion", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class CacheMode(models.TextChoices):
        """What the runner does with the response cache.

        See ``studio.guardrails.response_cache.decide``."""

        OFF = "off", _("Not cached")
        USE = "use", _("Reuse an identical answer")
        REFRESH = "refresh", _("Ask anew, keep the answer")

    model = models.CharField(max_length=64)
    # Model parameters only (temperature, max_tokens, thinking…): what is sent to the model.
    params = models.JSONField(default=dict)
    inputs = models.JSONField(default=dict)
    messages = models.JSONField(default=list)
    # Controls: how the runner treats the request, never sent as parameters.
    cache_mode = models.CharField(max_length=8, choices=CacheMode.choices, default=CacheMode.OFF)
    # "Continue": the generation whose unfinished text this one goes on from, and that text
    # (the new text starts with it; the runner needs it without another query).
    continues = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    prefix = models.TextField(blank=True)
    # Origin: who asked and how (``studio.audit.origin.Origin``), stored with the row by the
    # generate action; the audit row reads it from here when the generation ends.
    channel = models.CharField(
        max_length=8, choices=AuditLog.Channel.choices, default=AuditLog.Channel.UI
    )
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    api_key = models.ForeignKey(
        "api.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session_hash = models.CharField(max_length=16, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Text so far while running (saved at an interval), the full text when finished.
    text = models.TextField(blank=True)
    reasoning = models.TextField(blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    # The answer length sent (max_tokens, after the daily budget): "length" stopped there.
    max_tokens = models.PositiveIntegerField(null=True)
    prompt_tokens = models.PositiveIntegerField(null=True)
    completion_tokens = models.PositiveIntegerField(null=True)
    cache_hit_tokens = models.PositiveIntegerField(null=True)
    cache_miss_tokens = models.PositiveIntegerField(null=True)
    reasoning_tokens = models.PositiveIntegerField(null=True)
    # US dollars at the list price in force when the generation ran (studio/deepseek/pricing).
    cost = models.DecimalField(max_digits=12, decimal_places=6, null=True)
    # Answered from the response cache (an identical deterministic request): no tokens used.
    cached = models.BooleanField(default=False)
    ttft_ms = models.PositiveIntegerField(_("time to first token (ms)"), null=True)
    duration_ms = models.PositiveIntegerField(_("total time (ms)"), null=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # When its request went out (marked running): the end of any time it waited in line.
    started = models.DateTimeField(null=True)
    finished = models.DateTimeField(null=True)
    # Grounding (drafts.grounding): how many numbered passages its prompt gave the model to
    # cite as [1], [2]… (its ``grounding`` rows); 0 when its knowledge variable found none,
    # None when its template has no knowledge variable (then [n] in its text is plain text).
    passages_given = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Generation {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def origin(self) -> Origin:
        """Who started it, from its own columns."""
        return Origin(
            channel=self.channel,
            ip=self.client_ip,
            api_key_id=self.api_key_id,
            session=self.session_hash,
            request_id=self.request_id,
        )

    @staticmethod
    def origin_columns(origin: Origin) -> dict[str, object]:
        """The columns that store ``origin`` (for ``create``)."""
        return {
            "channel": origin.channel,
            "client_ip": origin.ip,
            "api_key_id": origin.api_key_id,
            "session_hash": origin.session,
            "request_id": origin.request_id,
        }

    @property
    def running_for_ms(self) -> int:
        """Milliseconds since it was started, by the server's clock: the live counter counts
        on from this with the browser's own clock, whatever the two clocks say."""
        return max(0, round((timezone.now() - self.created).total_seconds() * 1000))

    @property
    def is_partial(self) -> bool:
        """Ended before the model finished: the text is kept but incomplete."""
        return self.status in {self.Status.CANCELLED, self.Status.FAILED, self.Status.INTERRUPTED}

    @property
    def cut_at_length(self) -> bool:
        """Finished, but cut at the answer-length limit: the text stops mid-way."""
        return self.status == self.Status.DONE and self.finish_reason == "length"

    @property
    def status_label(self) -> str:
        """The status badge's words: a finished answer cut at max_tokens says so, not "Done"."""
        if self.cut_at_length:
            return _("Stopped at the length limit")
        return self.get_status_display()

    @property
    def length_limit(self) -> int | None:
        """The max_tokens the answer was cut at (asked for, when the sent one is unknown)."""
        return self.max_tokens or self.params.get("max_tokens")

    @property
    def can_continue(self) -> bool:
        """Has text the model can go on from: stopped, failed, interrupted or cut at length."""
        return bool(self.text) and (self.is_partial or self.cut_at_length)

    @property
    def error_text(self) -> str:
        """Why it failed, in the active language (see ``drafts.errors``)."""
        return translated(self.error_message)

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None or self.completion_tokens is None:
            return None
        return self.prompt_tokens + self.completion_tokens


class GroundingPassage(models.Model):
    """Passage ``number`` of the sources block a generation's prompt held: what ``[number]``
    in its text cites. The quoted text, title and version number are copied, so a citation
    still reads after its source is deleted (the links then go nowhere)."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="grounding")
    number = models.PositiveSmallIntegerField()
    passage = models.ForeignKey(
        "knowledge.Passage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_version = models.ForeignKey(
        "knowledge.SourceVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source_title = models.CharField(max_length=200)
    version_number = models.PositiveIntegerField()
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    score = models.FloatField()

    class Meta:
        ordering = ["generation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "number"], name="one_grounding_number_per_generation"
            )
        ]

    def __str__(self) -> str:
        return f"[{self.number}] {self.source_title} (v{self.version_number})"

    def note_text(self, quote_chars: int = 500) -> str:
        """The passage as an export's footnote: the source, its version, where in it, and
        the quoted passage (``quote_chars`` of it at most)."""
        where = f" · {self.heading}" if self.heading else ""
        quote = " ".join(self.text.split())
        if len(quote) > quote_chars:
            quote = quote[: quote_chars - 1].rstrip() + "…"
        return f"{self.source_title} (v{self.version_number}){where}: “{quote}”"

    def source_url(self) -> str:
        """The passage on its source's page ('' once the source is gone)."""
        if self.passage is None:
            return ""
        return self.passage.get_absolute_url()


class DraftVersionQuerySet(models.QuerySet["DraftVersion"]):
    def listed(self) -> DraftVersionQuerySet:
        """Newest first, with only what a list of versions names: no texts, no prompts.

        A draft gathers a version per generation, edit and restore; loading each one's text and
        its generation's prompt and answer to print "v12 · Generated" grew every panel with the
        draft's history.
        """
        return (
            self.select_related("generation")
            .only("draft", "number", "source", "session_started", "created", "generation__status")
            .order_by("-number")
        )


class DraftVersion(ImmutableModel):
    """An immutable, numbered state of a draft's text: saving it again raises."""

    class Source(models.TextChoices):
        GENERATED = "generated", _("Generated")
        CONTINUED = "continued", _("Continued")
        EDITED = "edited", _("Edited")
        RESTORED = "restored", _("Restored")
        VARIANT = "variant", _("Variant")
        SECTION = "section", _("Section generated")
        SUGGESTION = "suggestion", _("Suggestion accepted")

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    generation = models.OneToOneField(
        Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="version"
    )
    # The version an edit started from, or the old version a restore copied.
    based_on = models.PositiveIntegerField(null=True, blank=True)
    # An edited version is one editing session: when its first keystroke was kept (the
    # session's span is this to ``created``, shown as the version's note).
    session_started = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = DraftVersionQuerySet.as_manager()

    class Meta:
        ordering = ["draft", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "number"], name="unique_draft_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.draft} v{self.number}"


class WorkingCopy(models.Model):
    """One user's editing session on one draft, kept by autosave until it becomes a version.

    Autosave writes here, never a version: a crash or a closed tab loses nothing, and the next
    visit offers to resume. Save, leaving the editor or a long idle turn it into one version
    (``drafts.actions.finish_session``), checked against ``base`` as every edit is.
    """

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="working_copies")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(blank=True)
    base = models.PositiveIntegerField(default=0)  # the version the session started from
    started = models.DateTimeField()  # the session's first kept keystroke
    updated = models.DateTimeField()  # its last

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["draft", "user"], name="unique_working_copy")
        ]

    def __str__(self) -> str:
        return f"{self.draft} (working copy of {self.user_id})"

    def idle_since(self, now: datetime, idle: timedelta) -> bool:
        """Untouched for longer than ``idle``: the session it held is over."""
        return now - self.updated > idle


def _share_token() -> str:
    return secrets.token_urlsafe(24)


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def active(self) -> ShareLinkQuerySet:
        """Links that work: not revoked, to a draft not deleted."""
        return self.filter(revoked__isnull=True, draft__deleted_at=None)


class ShareLink(models.Model):
    """A read-only link to one version for reviewers without a login; revocable."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="share_links")
    version = models.ForeignKey(DraftVersion, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True, default=_share_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    revoked = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"Share of {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("drafts:shared", args=[self.token])

    @property
    def is_active(self) -> bool:
        return self.revoked is None

    def revoke(self) -> None:
        """The link stops working at once; revoking twice keeps the first time."""
        if self.revoked is None:
            self.revoked = timezone.now()
            self.save(update_fields=["revoked"])


class SuggestionQuerySet(models.QuerySet["Suggestion"]):
    def for_user(self, user) -> SuggestionQuerySet:
        """Suggestions on drafts in the user's workspaces; anyone else's are not found."""
        return self.filter(draft__in=Draft.objects.for_user(user))

    def open(self) -> SuggestionQuerySet:
        """Still streaming, or waiting for the editor to accept or reject."""
        return self.filter(status__in=[Suggestion.Status.RUNNING, Suggestion.Status.PENDING])

    def listed(self) -> SuggestionQuerySet:
        """Open ones the panel's suggestions list shows: a section's regeneration streams into
        its section instead, until it ends."""
        running_in_place = models.Q(
            status=Suggestion.Status.RUNNING, kind__in=Suggestion.SECTION_KINDS
        )
        return self.open().exclude(running_in_place)


class Suggestion(models.Model):
    """An AI rewrite of part of a draft, kept apart from the text until the editor decides.

    ``original`` is what the target range (``start``:``end`` in version ``base_number``) held;
    ``proposed`` is what the model wrote for it. Accepting or rejecting one change at a time
    moves ``original`` and ``proposed`` closer until they agree (see ``drafts.suggestions``).
    """

    class Kind(models.TextChoices):
        SECTION_REGENERATE = "regenerate", _("Regenerate section")
        SECTION_EXPAND = "expand", _("Expand section")
        SHORTER = "shorter", _("Shorter")
        FORMAL = "formal", _("More formal")
        TRANSLATE = "translate", _("Translate")
        HEADLINES = "headlines", _("Headline alternatives")
        # A campaign deliverable's items that break its channel's rules, repaired
        # (studio.campaigns.fitting): the answer fills ``parts``, the rest stays as it is.
        FIT = "fit", _("Fit to limits")

    SECTION_KINDS = (Kind.SECTION_REGENERATE, Kind.SECTION_EXPAND)
    # What "Translate" offers (the prompt names them in English: drafts.rewrite_prompts).
    LANGUAGES = {"en": _("English"), "zh-hans": _("Simplified Chinese")}

    class Status(models.TextChoices):
        RUNNING = "running", _("Generating")
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="suggestions")
    generation = models.OneToOneField(
        Generation, on_delete=models.CASCADE, related_name="suggestion"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Free text: the editor's instruction for a section, or the language to translate into.
    instruction = models.CharField(max_length=500, blank=True)
    base_number = models.PositiveIntegerField()
    section_index = models.PositiveIntegerField(null=True, blank=True)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    original = models.TextField(blank=True)
    proposed = models.TextField(blank=True)
    # Fit to limits: the ranges of ``original`` ([start, end], in order) that the answer's
    # numbered items replace (``rewrite_prompts.fill_parts``); empty for every other kind.
    parts = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # Bumped by every decision, so a page showing an older state cannot act on a changed one.
    revision = models.PositiveIntegerField(default=0)
    # The version that took (some of) it in, the last one if several did.
    version = models.ForeignKey(
        DraftVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    resolved = models.DateTimeField(null=True, blank=True)

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["draft", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.draft}"

    @property
    def is_section(self) -> bool:
        return self.kind in self.SECTION_KINDS

    @property
    def language_label(self) -> str:
        return str(self.LANGUAGES.get(self.instruction, self.instruction))

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.RUNNING, self.Status.PENDING)
