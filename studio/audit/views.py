"""Prometheus metrics and the liveness/readiness probes: public URLs with their own guards."""

from __future__ import annotations

import hmac
import logging
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from studio.ai import breaker_state

from .metrics import exposition, set_breaker_state

logger = logging.getLogger(__name__)


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@login_not_required
@never_cache
@require_GET
async def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for a scraper holding METRICS_TOKEN (unset: not served at all);
    with several workers, the sum of all of them (``metrics.exposition``)."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are off: set METRICS_TOKEN to serve them.")
    if not hmac.compare_digest(_bearer(request).encode(), expected.encode()):
        response = HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    await _publish_breaker()
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


async def _publish_breaker() -> str:
    """Read the shared breaker's state into its gauge; the state, or ``unknown``."""
    try:
        snapshot = await breaker_state()
    except Exception:  # a cache outage must not hide the other metrics
        logger.exception("Could not read the circuit breaker's state")
        return "unknown"
    set_breaker_state(snapshot.state)
    return snapshot.state


@login_not_required
@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers requests (restart it when this fails)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    key = f"readiness:{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)


CHECKS = {"database": _check_database, "cache": _check_cache}


def _run_checks() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure makes the instance not ready; say which
            logger.warning("Readiness check %s failed: %r", name, exc)
            results[name] = f"error: {type(exc).__name__}"
    return results


@login_not_required
@never_cache
@require_GET
async def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the shared cache answer (stop routing traffic otherwise).

    The upstream circuit breaker is reported but does not fail readiness: with DeepSeek down
    the studio still serves drafts, and every instance shares the breaker, so taking them out
    of rotation would only turn a degraded studio into an unreachable one.
    """
    results = await sync_to_async(_run_checks)()
    ok = all(value == "ok" for value in results.values())
    results["upstream_breaker"] = await _publish_breaker()
    body = {"status": "ok" if ok else "unavailable", "checks": results}
    return JsonResponse(body, status=200 if ok else 503)
