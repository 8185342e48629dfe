"""The studio's own middleware (Django's own, declared sync-only, is in ``studio.tuning``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
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


class FirstRead[R]:
    """An async view's first synchronous read, made in the trip Django already makes to the
    request's thread for the ``process_view`` hooks (:class:`FirstReadMiddleware`, last in
    ``MIDDLEWARE``: after CSRF, login required, the rate limits and the role check), not in
    a trip of its own: an SSE request reaches its response one trip sooner (decision 60).

    ``read(request, **kwargs)`` gets the view's URL keywords; it must only read, since it may
    run for a request the view's own decorators then refuse (a POST to a GET-only view).
    Decorate the view with ``@reader.first`` (innermost: ``functools.wraps`` carries the
    mark outwards) and get the result with ``await reader(request, **kwargs)``: what the hook
    read (its exception raised here, where the view would have raised it), else, with no
    hook (the middleware not installed, other keywords), a trip of its own as before."""

    def __init__(self, read: Callable[..., R]) -> None:
        self.read = read
        self._key = f"_studio_first_read_{id(self)}"  # where the hook leaves its outcome

    def first[V](self, view: V) -> V:
        view.first_read = self  # type: ignore[attr-defined]
        return view

    def run_now(self, request: HttpRequest, kwargs: dict[str, Any]) -> None:
        """Read now (sync, the hooks' trip) and keep the outcome on the request."""
        try:
            outcome: tuple[dict[str, Any], R | None, Exception | None] = (
                kwargs,
                self.read(request, **kwargs),
                None,
            )
        except Exception as exc:  # raised again in the view, as if it had read
            outcome = (kwargs, None, exc)
        request.__dict__[self._key] = outcome

    async def __call__(self, request: HttpRequest, **kwargs: Any) -> R:
        outcome = request.__dict__.pop(self._key, None)
        if outcome is None or outcome[0] != kwargs:
            return await sync_to_async(self.read)(request, **kwargs)
        _, result, error = outcome
        if error is not None:
            raise error
        return result  # type: ignore[return-value]


class FirstReadMiddleware(MiddlewareMixin):
    """Makes the view's :class:`FirstRead` in the ``process_view`` hooks' one trip (studio
    .tuning 2), after every other hook has let the request through."""

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        if (reader := getattr(view, "first_read", None)) is not None:
            reader.run_now(request, kwargs)
