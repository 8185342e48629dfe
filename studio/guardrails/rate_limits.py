"""Rate limits: django-ratelimit counters on the shared cache.

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
RATELIMIT_RATE; ``"off"`` exempts. A refused AI call (AI_ROUTES) is written to the audit log
as ``rate_limited``. The pages' middleware is in ``page_rate_limits``; the JSON API counts its
calls in its authentication (studio.api.auth).

While the shared cache is unreachable, rate limits fail open (``studio.degraded``): requests
are let through uncounted, with one WARNING per outage and ``studio_shared_cache_errors_total``
counting the misses. DeepSeek keeps its own limits on the studio's key, and the daily token
budgets still hold (they read the audit log in the database).
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.core import get_usage

from studio import degraded
from studio.audit.metrics import observe_rate_limited
from studio.audit.models import AuditLog

from .refusals import audit_refusal

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
        "campaigns:generate",  # Generate all: one generation per deliverable
        "campaigns:regenerate",  # one deliverable's
        "campaigns:fit",  # Fit to limits
        "api_ai:generate",
        "api_ai:campaign_generate",  # the API's Generate all
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
        count = partial(
            get_usage,
            request,
            group=f"{route}|{scope}",
            key=lambda _group, _request, value=value: value,
            rate=rate,
            increment=increment,
        )
        usage = degraded.fail_open(lambda _cache, count=count: count(), None, what="rate_limit")
        over = usage and (
            usage["should_limit"] or (not increment and usage["count"] >= usage["limit"])
        )
        if over:
            observe_rate_limited(scope)
            if route in AI_ROUTES:
                status, code = AuditLog.Status.RATE_LIMITED, f"rate_limit_{scope}"
                audit_refusal(request, status=status, code=code)
            raise RateLimited(scope=scope, retry_after=max(1, usage["time_left"]))
