"""API-key authentication for the JSON API: ``Authorization: Bearer`` or ``X-API-Key``.

Authenticated requests count against the key's and the user's rate limits; failed attempts
count against the caller's IP, so guessing keys is slowed down without limiting an office
whose people share one address.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from studio.audit.recording import client_ip

from .limits import check_rate
from .models import ApiKey


def presented_key(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip()


def route_name(request: HttpRequest) -> str:
    match = request.resolver_match
    return match.view_name if match else request.path


class ApiKeyAuth(HttpBearer):
    """Bearer in the OpenAPI schema; ``X-API-Key: <key>`` works the same."""

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        route, ip = route_name(request), client_ip(request) or "unknown"
        check_rate(request, route=route, scopes={"ip": ip}, increment=False)
        key = ApiKey.objects.matching(presented_key(request)) if presented_key(request) else None
        if key is None:
            check_rate(request, route=route, scopes={"ip": ip})
            return None
        check_rate(request, route=route, scopes={"key": key.prefix, "user": str(key.user_id)})
        key.touch()
        request.api_key = key  # type: ignore[attr-defined]
        request.user = key.user
        return key

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        raise NotImplementedError  # __call__ reads both headers itself
