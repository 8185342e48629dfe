"""One audit row per AI call: who asked what, through which door, and how it went."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def start_of_day(now: datetime | None = None) -> datetime:
    """Midnight today in the studio's time zone (TIME_ZONE: daily budgets reset then)."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


class Usage(NamedTuple):
    tokens: int
    cost: Decimal


def _usage_totals() -> dict[str, Sum]:
    """What "usage" sums: the calls' total tokens (prompt + completion) and their cost."""
    return {"tokens": Sum("total_tokens"), "cost": Sum("cost")}


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def for_user(self, user) -> AuditLogQuerySet:
        """The user's own calls (the admin sees everything)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def since(self, moment: datetime) -> AuditLogQuerySet:
        return self.filter(created__gte=moment)

    def today(self) -> AuditLogQuerySet:
        """Calls since midnight in the studio's time zone."""
        return self.since(start_of_day())

    def billed(self) -> AuditLogQuerySet:
        """Calls DeepSeek answered, whatever the door (studio, API, batch) and however they
        ended: an answer served from the cache and a call refused before it left cost nothing."""
        status = self.model.Status
        refused = [status.BLOCKED, status.RATE_LIMITED, status.OVER_BUDGET]
        return self.exclude(cached=True).exclude(status__in=refused)

    def usage(self) -> Usage:
        """The one definition of "usage" every page shows: the billed calls' total tokens
        (prompt + completion) and cost, in one query."""
        totals = self.billed().aggregate(**_usage_totals())
        return Usage(totals["tokens"] or 0, totals["cost"] or Decimal(0))

    def usage_rows(self) -> models.QuerySet:
        """``usage`` as rows: one per user with billed calls (``tokens``, ``cost``), in one
        query of a shape that can be compiled once (``studio.guardrails.budgets``)."""
        return self.billed().order_by().values("user").annotate(**_usage_totals())

    def usage_by_day(self) -> dict[date, Usage]:
        """``usage`` for each day (in the studio's time zone) that has billed calls."""
        rows = (
            self.billed()
            .annotate(day=TruncDate("created"))
            .order_by()
            .values("day")
            .annotate(**_usage_totals())
            .values_list("day", "tokens", "cost")
        )
        return {day: Usage(tokens or 0, cost or Decimal(0)) for day, tokens, cost in rows}

    def older_than(self, days: int) -> AuditLogQuerySet:
        return self.filter(created__lt=timezone.now() - timedelta(days=days))

    def total_tokens(self) -> int:
        return self.aggregate(n=Sum("total_tokens"))["n"] or 0

    def total_cost(self) -> Decimal:
        return self.aggregate(n=Sum("cost"))["n"] or Decimal(0)


class AuditLog(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        INTERRUPTED = "interrupted", _("Interrupted")
        BLOCKED = "blocked", _("Blocked by validation")
        RATE_LIMITED = "rate_limited", _("Rate limited")
        OVER_BUDGET = "over_budget", _("Over budget")

    class Channel(models.TextChoices):
        UI = "ui", _("Studio (session)")
        API = "api", _("JSON API")
        OPENAI = "openai", _("OpenAI-compatible API")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "api.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The browser session's key is itself a credential: only a short hash of it is kept.
    session = models.CharField(_("session"), max_length=16, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.UI)
    generation_id = models.PositiveBigIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prompt = models.TextField(blank=True)
    response = models.TextField(blank=True)
    model = models.CharField(max_length=64, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error_code = models.CharField(max_length=64, blank=True)
    cached = models.BooleanField(_("served from cache"), default=False)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(_("time to first token (ms)"), null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["user", "-created"], name="audit_user_created")]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.user} {self.model} {self.status}"
