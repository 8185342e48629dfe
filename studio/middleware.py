"""The studio's own middleware (Django's own, declared sync-only, is in ``studio.tuning``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from redis.exceptions import RedisError

from studio import degraded


class PrivatePagesMiddleware(MiddlewareMixin):
    """``Cache-Control: private, no-store`` on every answer to a signed-in user.

    A signed-in page shows that user's work: no shared cache (a proxy, a CDN) may keep it, and
    the browser should not keep it on disk for the next person at the machine to bring back
    with Back. A response that set its own Cache-Control (the SSE streams, ``never_cache``
    pages) keeps it, and is not asked who the user is: the database may be why it was sent
    (``studio.views.server_error``'s "busy"). Public pages and static files (served before
    this chain) are left alone.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "private, no-store"
        return response


class SharedCacheDownMiddleware(MiddlewareMixin):
    """A view's call to Redis that nothing on the way degraded (``studio.degraded`` wraps those
    on request paths): a 503 with Retry-After that says so, never a bare 500; the outage is
    noted like any other (one WARNING, the metrics, the banner). htmx requests get a toast.
    """

    TEMPLATE = "errors/unavailable.html"

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RedisError):
            return None
        degraded.note(exception, what="view")
        if getattr(request, "htmx", False):
            response = render(request, f"{self.TEMPLATE}#unavailable-toast", status=503)
            response["HX-Retarget"] = "#toasts"
            response["HX-Reswap"] = "beforeend"
        else:
            response = render(request, self.TEMPLATE, status=503)
        response["Retry-After"] = str(int(degraded.RETRY_AFTER))
        return response
