"""Rate limits (django-ratelimit counters on the shared cache) and daily token budgets.

Rates are per route (the URL's view name): RATELIMIT_RATE for every route unless
RATELIMIT_ROUTES names another (``"drafts:generate": "20/m"``; ``"off"`` exempts a route).
Each scope (user, API key, IP) has its own counter, so one noisy key cannot use up its owner's
other keys' allowance on another route, and an office behind one IP is limited per person.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.core import get_usage

from studio.audit.metrics import observe_rate_limited
from studio.audit.models import AuditLog

OFF = {"", "0", "off", "none"}
SCOPES = {"user": gettext_lazy("user"), "key": gettext_lazy("API key"), "ip": gettext_lazy("IP")}


class RateLimited(Exception):
    """Too many requests in the window; ``retry_after`` seconds until it resets."""

    def __init__(self, *, scope: str, retry_after: int) -> None:
        self.scope = scope
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return _(
            "Too many requests (limit per %(scope)s). Wait %(seconds)s seconds and try again."
        ) % {"scope": SCOPES.get(self.scope, self.scope), "seconds": self.retry_after}


class BudgetExceeded(Exception):
    """The user's daily token budget is used up until ``retry_after`` seconds from now."""

    def __init__(self, *, used: int, budget: int, retry_after: int) -> None:
        self.used, self.budget, self.retry_after = used, budget, retry_after
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return _(
            "You have used your daily budget of %(budget)s tokens (%(used)s used). "
            "It resets at midnight (%(tz)s)."
        ) % {"budget": f"{self.budget:,}", "used": f"{self.used:,}", "tz": settings.TIME_ZONE}


def rate_for(route: str) -> str | None:
    """The rate for a route (``"100/m"``), or None when the route is not limited."""
    rate = str(settings.RATELIMIT_ROUTES.get(route, settings.RATELIMIT_RATE)).strip()
    return None if rate.lower() in OFF else rate


def check_rate(
    request: HttpRequest, *, route: str, scopes: dict[str, str], increment: bool = True
) -> None:
    """Count this request against each scope's counter; raise RateLimited on the first over.

    ``increment=False`` only checks (a counter already over its limit still refuses).

    ``scopes`` maps a scope (``user``, ``key``, ``ip``) to the value it is counted under
    (a user id, a key prefix, an address).
    """
    rate = rate_for(route)
    if rate is None:
        return
    for scope, value in scopes.items():
        usage = get_usage(
            request,
            group=f"{route}|{scope}",
            key=lambda _group, _request, value=value: value,
            rate=rate,
            increment=increment,
        )
        over = usage and (
            usage["should_limit"] or (not increment and usage["count"] >= usage["limit"])
        )
        if over:
            observe_rate_limited(scope)
            raise RateLimited(scope=scope, retry_after=max(1, usage["time_left"]))


def start_of_day(now: datetime | None = None) -> datetime:
    """Midnight today in the studio's time zone (budgets reset then)."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def tokens_used_today(user) -> int:
    """Tokens the user's AI calls used since midnight, from the audit log."""
    return AuditLog.objects.filter(user=user).since(start_of_day()).total_tokens()


def check_token_budget(user) -> None:
    """Raise BudgetExceeded when the user has used AI_DAILY_TOKEN_BUDGET tokens today (0: none)."""
    budget = settings.AI_DAILY_TOKEN_BUDGET
    if not budget:
        return
    used = tokens_used_today(user)
    if used >= budget:
        reset = start_of_day() + timedelta(days=1)
        retry_after = max(1, int((reset - timezone.localtime()).total_seconds()))
        raise BudgetExceeded(used=used, budget=budget, retry_after=retry_after)


async def acheck_token_budget(user) -> None:
    """``check_token_budget`` for async code."""
    await sync_to_async(check_token_budget)(user)
