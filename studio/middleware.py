"""Django's own middleware, declared synchronous, so that an ASGI request crosses into a
thread once for all of it instead of once per hook.

Under ASGI, Django runs a middleware that is both sync- and async-capable in async mode; for
Django's built-in ones (``MiddlewareMixin``) that means a ``sync_to_async`` around every
``process_request`` and ``process_response``: about sixteen trips to the request's thread and
back, each a few hundred microseconds on a busy worker, before a Generate reaches its view.
Declared sync-only, consecutive middleware run as one synchronous chain (and the both-capable
ones between them, CSRF and X-Frame-Options, follow it): Django adapts once on the way in and
once to the async view, which is what the benchmark's time to first token measures. Nothing
else about them changes.

It is safe because what a view starts in the background never runs in the request's context
(``studio.background``): the chain calls the view through ``AsyncToSync``, whose executor is
the request's thread, parked until the view returns.
"""

from __future__ import annotations

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse
from django.middleware import common, csp, locale
from django.utils.deprecation import MiddlewareMixin


def _sync_only(cls: type[MiddlewareMixin]) -> type[MiddlewareMixin]:
    return type(cls.__name__, (cls,), {"async_capable": False, "__module__": __name__})


SessionMiddleware = _sync_only(sessions.SessionMiddleware)
LocaleMiddleware = _sync_only(locale.LocaleMiddleware)
CommonMiddleware = _sync_only(common.CommonMiddleware)
AuthenticationMiddleware = _sync_only(auth.AuthenticationMiddleware)
LoginRequiredMiddleware = _sync_only(auth.LoginRequiredMiddleware)
MessageMiddleware = _sync_only(messages.MessageMiddleware)
ContentSecurityPolicyMiddleware = _sync_only(csp.ContentSecurityPolicyMiddleware)


class PrivatePagesMiddleware(MiddlewareMixin):
    """``Cache-Control: private, no-store`` on every answer to a signed-in user.

    A signed-in page shows that user's work: no shared cache (a proxy, a CDN) may keep it, and
    the browser should not keep it on disk for the next person at the machine to bring back
    with Back. A response that set its own Cache-Control (the SSE streams, ``never_cache``
    pages) keeps it; public pages and static files (served before this chain) are left alone.
    """

    async_capable = False

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
