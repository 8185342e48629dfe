"""API-key authentication for the JSON API: ``Authorization: Bearer`` or ``X-API-Key``.

Authenticated requests count against the key's, the user's and the address's rate limits
(``api_ip``, generous: an office shares one address). Failed attempts count per address
over all API URLs together (``api_ai:auth``); once an address is over, it is refused with a
429 before any key is looked at, so guessing learns nothing more until the window resets.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from studio.audit.recording import client_ip
from studio.guardrails.rate_limits import AUTH_ROUTE, check_rate

from .models import ApiKey


def presented_key(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip()


# django-ninja gives a path the URL name of its first operation, whatever the method: these
# operations share their path with another, and are counted (and refused) under their own.
SHARED_PATHS = {
    ("api_ai:drafts", "POST"): "api_ai:generate",
    ("api_ai:campaigns", "POST"): "api_ai:campaign_create",
}


def route_name(request: HttpRequest) -> str:
    """The operation's URL name (what RATELIMIT_ROUTES and the refusal audit name)."""
    match = request.resolver_match
    if match is None:
        return request.path
    return SHARED_PATHS.get((match.view_name, request.method or ""), match.view_name)


class ApiKeyAuth(HttpBearer):
    """Bearer in the OpenAPI schema; ``X-API-Key: <key>`` works the same."""

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        ip = client_ip(request) or "unknown"
        check_rate(request, route=AUTH_ROUTE, scopes={"ip": ip}, increment=False)
        key = ApiKey.objects.matching(presented_key(request)) if presented_key(request) else None
        if key is None:
            check_rate(request, route=AUTH_ROUTE, scopes={"ip": ip})
            return None
        # Known before the limits are counted, so a refused AI call is audited as theirs.
        request.api_key = key  # type: ignore[attr-defined]
        request.user = key.user
        scopes = {"key": key.prefix, "user": str(key.user_id), "api_ip": ip}
        check_rate(request, route=route_name(request), scopes=scopes)
        key.touch()
        return key

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        raise NotImplementedError  # __call__ reads both headers itself
