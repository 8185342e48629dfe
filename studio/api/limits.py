"""Rate limits (django-ratelimit counters on the shared cache) and daily token budgets.

Each scope has its own counter per route (the URL's view name):

- ``user``: a signed-in user's page writes; an API caller's user, over all their keys;
- ``key``: one API key;
- ``api_ip``: every API call from one address, whoever's keys it carries (generous by
  default, so an office behind one address is limited per person, not as one);
- ``ip``: anonymous page writes per address, and failed API authentications per address
  on the pseudo-route ``api_ai:auth`` (all API URLs together, so guessing keys cannot spread
  over the URLs to multiply its allowance).

The rate of a scope on a route is the most specific setting there is: RATELIMIT_ROUTES'
``"route|scope"``, then its ``"route"``, then RATELIMIT_SCOPE_RATES' ``"scope"``, then
RATELIMIT_RATE; ``"off"`` exempts. A refused AI call (AI_ROUTES, or a spent budget) is
written to the audit log as ``rate_limited`` or ``over_budget``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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
SCOPES = {
    "user": gettext_lazy("user"),
    "key": gettext_lazy("API key"),
    "ip": gettext_lazy("IP"),
    "api_ip": gettext_lazy("IP address, all API keys together"),
}
AUTH_ROUTE = "api_ai:auth"  # failed API authentications, counted over every API URL
# The routes whose unsafe requests start AI calls: a refusal there is audited like a call.
AI_ROUTES = frozenset(
    {
        "drafts:generate",
        "drafts:follow_up",
        "drafts:section_generate",
        "drafts:rewrite",
        "assistant:ask",
        "prompts:run_start",
        "prompts:batch",  # run, resume and judge a batch
        "api_ai:generate",
        "api_ai:chat_completions",
    }
)


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


def rate_for(route: str, scope: str = "") -> str | None:
    """The rate of ``scope``'s counter on ``route`` (``"100/m"``), or None when not limited."""
    routes, scopes = settings.RATELIMIT_ROUTES, settings.RATELIMIT_SCOPE_RATES
    if scope and f"{route}|{scope}" in routes:
        rate = routes[f"{route}|{scope}"]
    elif route in routes:
        rate = routes[route]
    else:
        rate = scopes.get(scope, settings.RATELIMIT_RATE)
    rate = str(rate).strip()
    return None if rate.lower() in OFF else rate


def check_rate(
    request: HttpRequest, *, route: str, scopes: dict[str, str], increment: bool = True
) -> None:
    """Count this request against each scope's counter; raise RateLimited on the first over.

    ``increment=False`` only checks (a counter already over its limit still refuses).

    ``scopes`` maps a scope (``user``, ``key``, ``api_ip``, ``ip``) to the value it is counted
    under (a user id, a key prefix, an address). A refused AI call is audited.
    """
    for scope, value in scopes.items():
        rate = rate_for(route, scope)
        if rate is None:
            continue
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
            if route in AI_ROUTES:
                status, code = AuditLog.Status.RATE_LIMITED, f"rate_limit_{scope}"
                audit_refusal(request, status=status, code=code)
            raise RateLimited(scope=scope, retry_after=max(1, usage["time_left"]))


def audit_refusal(
    request: HttpRequest | None, *, status: str, code: str, user=None, **fields: Any
) -> None:
    """An audit row for an AI call refused before it was made (nothing was sent).

    Only for a known user (a session or an API key): an anonymous refusal is no AI call.
    """
    from studio.audit.recording import record_ai_call

    user = user or getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    if request is not None:
        match = request.resolver_match
        if match and match.view_name == "api_ai:chat_completions":
            fields.setdefault("channel", AuditLog.Channel.OPENAI)
    record_ai_call(request=request, status=status, user=user, error_code=code, **fields)


def start_of_day(now: datetime | None = None) -> datetime:
    """Midnight today in the studio's time zone (budgets reset then)."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def tokens_used_today(user) -> int:
    """Tokens the user's AI calls used since midnight, from the audit log."""
    return AuditLog.objects.filter(user=user).since(start_of_day()).total_tokens()


def check_token_budget(
    user, *, request: HttpRequest | None = None, workspace_id: int | None = None
) -> None:
    """Raise BudgetExceeded when the user has used AI_DAILY_TOKEN_BUDGET tokens today (0: none).

    The refusal is audited (``over_budget``), with the request's origin when given.
    """
    budget = settings.AI_DAILY_TOKEN_BUDGET
    if not budget:
        return
    used = tokens_used_today(user)
    if used >= budget:
        reset = start_of_day() + timedelta(days=1)
        retry_after = max(1, int((reset - timezone.localtime()).total_seconds()))
        audit_refusal(
            request,
            status=AuditLog.Status.OVER_BUDGET,
            code="daily_budget_exceeded",
            user=user,
            workspace_id=workspace_id,
        )
        raise BudgetExceeded(used=used, budget=budget, retry_after=retry_after)


async def acheck_token_budget(user, **kwargs: Any) -> None:
    """``check_token_budget`` for async code (the same keyword arguments)."""
    await sync_to_async(check_token_budget)(user, **kwargs)
