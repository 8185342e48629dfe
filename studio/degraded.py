"""Degrade, never lie: what request paths do while the shared cache (Redis) is unreachable.

The default cache (Redis when REDIS_URL is set) holds counters and caches that every worker
shares. When it cannot be reached, Django's RedisCache raises redis' errors instead of
swallowing them; on a request path that would be a bare 500 for every Generate, Stop and
page. Code that touches the cache on a request path goes through this module instead:

- ``run(op, what=...)`` runs ``op`` on the shared cache and, on a cache error, on this
  process's own memory (``LOCAL``): login throttles, budget reservations, the circuit breaker
  and the caches of rendered text keep working per worker (less strict, never absent);
- ``fail_open(op, default, what=...)`` returns ``default`` instead (rate limits: the
  upstream still has its own);
- ``cache_down()`` says whether the shared cache is down, for the banner pages show;
- ``note(exc, what=...)`` records a cache error that reached an error handler instead
  (``studio.middleware.SharedCacheDownMiddleware``, the API's): those answer 503.

The first error of an outage logs one WARNING and marks the cache down (the
``studio_shared_cache_down`` gauge); each error is counted in
``studio_shared_cache_errors_total`` by what was asked. While down, the shared cache is not
asked again for ``RETRY_AFTER`` seconds (an unreachable host can cost a connect timeout per
call); the next call after that tries it, and the first success logs the recovery.
docs/operations.md ("When Redis is down") states the policy.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from prometheus_client import Counter, Gauge
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What an unreachable cache raises: redis-py's errors (ConnectionError, TimeoutError …) and
# the socket's own (a name that no longer resolves, a reset connection).
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)
RETRY_AFTER = 5.0  # seconds the shared cache is left alone after an error
# This process's stand-in for the shared cache while it is down.
LOCAL = LocMemCache("studio-degraded", {"OPTIONS": {"MAX_ENTRIES": 10_000}})

# Registered on the studio's metrics registry by studio.audit.metrics (a layer above). In
# prometheus_client's multiprocess mode each metric opens its file there at once: this module
# may be imported before that one makes the directory.
if _MULTIPROC_DIR := os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""):
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)
ERRORS = Counter(
    "studio_shared_cache_errors",
    "Calls to the shared cache (Redis) that failed, by what they were for.",
    ["what"],
    registry=None,
)
DOWN = Gauge(
    "studio_shared_cache_down",
    "1 while this process finds the shared cache (Redis) unreachable.",
    registry=None,
    multiprocess_mode="livemax",  # down for the instance if any living worker finds it down
)

_lock = threading.Lock()
_down_since: float | None = None
_retry_at = 0.0
_answered_at = 0.0  # the shared cache's last answer (or error): what cache_down() goes by


def shared() -> BaseCache:
    return caches["default"]


def _skipping() -> bool:
    return _down_since is not None and time.monotonic() < _retry_at


def _failed(what: str, exc: BaseException) -> None:
    global _down_since, _retry_at, _answered_at
    ERRORS.labels(what=what).inc()
    with _lock:
        first = _down_since is None
        now = _answered_at = time.monotonic()
        if first:
            _down_since = now
        _retry_at = now + RETRY_AFTER
    if first:
        DOWN.set(1)
        logger.warning(
            "The shared cache (Redis) is unreachable (%s: %s): rate limits are off and "
            "throttles, budgets and caches count in each worker until it is back.",
            what,
            exc,
        )


def _succeeded() -> None:
    global _down_since, _answered_at
    _answered_at = time.monotonic()
    if _down_since is None:
        return
    with _lock:
        since, _down_since = _down_since, None
    if since is not None:
        DOWN.set(0)
        seconds = time.monotonic() - since
        logger.warning("The shared cache (Redis) is reachable again after %.0f s.", seconds)


def note(exc: BaseException, *, what: str) -> None:
    """A cache error that reached a request's error handler (studio.middleware, the API): the
    outage is noted as any other (logged once, counted, the banner)."""
    _failed(what, exc)


def run[T](op: Callable[[BaseCache], T], *, what: str) -> T:
    """``op(shared cache)``; on a cache error (or while it is known down), ``op(LOCAL)``."""
    if not _skipping():
        try:
            result = op(shared())
        except CACHE_ERRORS as exc:
            _failed(what, exc)
        else:
            _succeeded()
            return result
    return op(LOCAL)


def fail_open[T](op: Callable[[BaseCache], T], default: T, *, what: str) -> T:
    """``op(shared cache)``; on a cache error (or while it is known down), ``default``."""
    if _skipping():
        return default
    try:
        result = op(shared())
    except CACHE_ERRORS as exc:
        _failed(what, exc)
        return default
    _succeeded()
    return result


def cache_down() -> bool:
    """Whether the shared cache is down (the pages' banner). It goes by the last call to the
    cache on any path, or, when there was none in the last RETRY_AFTER seconds, asks it
    (at most one round trip per RETRY_AFTER seconds, none while requests keep it busy)."""
    if _skipping():
        return True
    if time.monotonic() - _answered_at >= RETRY_AFTER:
        fail_open(lambda cache: cache.get("studio:degraded-probe"), None, what="probe")
    return _down_since is not None


def reset() -> None:
    """Forget any outage (tests; the local stand-in is emptied too)."""
    global _down_since, _retry_at, _answered_at
    with _lock:
        _down_since, _retry_at, _answered_at = None, 0.0, 0.0
    DOWN.set(0)
    LOCAL.clear()
