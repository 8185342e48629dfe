"""Rate limits for the studio's pages: every unsafe request (POST, PUT, PATCH, DELETE).

Reads are cheap and htmx polls and reconnects freely, so only writes count — generate, save,
revoke, log in — and the reads of the few pages ``limit_reads`` marks. Signed-in users are
counted per user, anonymous callers per IP. The JSON API applies its own per-key, per-user and
per-IP limits in its authentication (studio.api.auth).
An htmx request over the limit gets a 429 whose body is a toast for ``#toasts``; other
requests get a full page. Both carry Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

from studio.audit.recording import client_ip

from .rate_limits import RateLimited, check_rate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
PAGE = "guardrails/rate_limited.html"


class RateLimitMiddleware(MiddlewareMixin):
    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method in SAFE_METHODS or match is None or match.namespace == "api_ai":
            return None
        try:
            check_rate(request, route=match.view_name, scopes=_scopes(request))
        except RateLimited as exc:
            return rate_limited_response(request, exc)
        return None


def _scopes(request: HttpRequest) -> dict[str, str]:
    """Signed-in users are counted per user, anonymous callers per IP."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"user": str(user.pk)}
    return {"ip": client_ip(request) or "unknown"}


def limit_reads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Count a page's reads as the middleware counts writes (same scopes, same rates, by the
    view's URL name): for the few pages where each view costs real work, such as an
    anonymous share link or an export."""

    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method in SAFE_METHODS:
            try:
                check_rate(request, route=request.resolver_match.view_name, scopes=_scopes(request))
            except RateLimited as exc:
                return rate_limited_response(request, exc)
        return view(request, *args, **kwargs)

    return limited


def rate_limited_response(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    context = {"message": exc.message, "retry_after": exc.retry_after}
    if getattr(request, "htmx", False):
        response = render(request, f"{PAGE}#rate-limited-toast", context, status=429)
        # htmx 2 swaps no 4xx by default (the toast handler in studio.js speaks then); where
        # responseHandling lets 429 swap, this toast lands in #toasts.
        response["HX-Retarget"] = "#toasts"
        response["HX-Reswap"] = "beforeend"
    else:
        response = render(request, PAGE, context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response
