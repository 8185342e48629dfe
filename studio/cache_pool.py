"""One Redis connection pool per process for Django's Redis cache.

Under ASGI, Django builds the cache backend again in every request's context (``caches`` is
a context-local), and each new ``RedisCache`` builds its own connection pools: every
request that touched the cache (the rate limit, the budget, a heartbeat) opened a new TCP
connection to Redis and left it to the garbage collector. ``SharedConnectionPool`` is given
to the cache as its ``pool_class`` (Django's documented ``OPTIONS`` hook): the pools are made
once per process and URL and shared by every backend instance and thread (redis-py's pool is
thread-safe, and makes itself anew in a forked child)."""

from __future__ import annotations

import threading
from typing import Any

import redis

_lock = threading.Lock()
_pools: dict[str, redis.ConnectionPool] = {}


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:
        """The process's pool for ``url`` (the options are the cache's, the same each time)."""
        with _lock:
            if (pool := _pools.get(url)) is None:
                pool = _pools[url] = super().from_url(url, **kwargs)
            return pool
