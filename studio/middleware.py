"""The studio's own middleware (Django's own, declared sync-only, is in ``studio.tuning``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin


class PrivatePagesMiddleware(MiddlewareMixin):
    """``Cache-Control: private, no-store`` on every answer to a signed-in user.

    A signed-in page shows that user's work: no shared cache (a proxy, a CDN) may keep it, and
    the browser should not keep it on disk for the next person at the machine to bring back
    with Back. A response that set its own Cache-Control (the SSE streams, ``never_cache``
    pages) keeps it; public pages and static files (served before this chain) are left alone.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
