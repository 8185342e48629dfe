"""One Redis client per process for Django's Redis cache.

Under ASGI, Django builds the cache backend again in every request's context (``caches`` is
a context-local), and each new ``RedisCache`` builds its own client and pools:

- every request that touched the cache (the rate limit, the budget, a heartbeat) opened a new
  TCP connection to Redis and left it to the garbage collector
  (docs/decisions/0022-one-redis-pool-per-process.md);
- building Django's ``RedisCacheClient`` asks redis-py for a ``DriverInfo``, which reads
  redis-py's version from the installed package's metadata: about 0.4 ms each time, several
  times per request (docs/decisions/0029-one-redis-client-per-process.md);
- every command made a ``redis.Redis`` of its own (70 µs each);
- and ``incr`` (the rate limits, the budget's reservations) took two round trips
  (docs/decisions/0033-counters-in-one-round-trip.md), and a counter made on first use
  (``add``, then ``incr``) two more: ``count`` makes and raises it in one
  (docs/decisions/0051-a-counter-made-and-raised-in-one-round-trip.md).

``RedisCache`` (the cache's ``BACKEND``) hands every backend instance the process's one
``SharedClient`` for its location and options, which keeps one ``redis.Redis`` per server:
redis-py's clients and pools are thread-safe, a pool makes itself anew in a forked child.
``SharedConnectionPool`` (the cache's ``pool_class``, Django's documented ``OPTIONS`` hook)
keeps one pool per process and URL for any other client of the same URL.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import BaseCache
from django.utils.functional import cached_property

_lock = threading.Lock()
_pools: dict[str, redis.ConnectionPool] = {}
# Location -> (the OPTIONS it was built with, the client): other options, another client.
_clients: dict[tuple[str, ...], tuple[dict[str, Any], SharedClient]] = {}


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:
        """The process's pool for ``url`` (the options are the cache's, the same each time)."""
        with _lock:
            if (pool := _pools.get(url)) is None:
                pool = _pools[url] = super().from_url(url, **kwargs)
            return pool


# INCRBY on a key that exists, in one round trip. Django's client asks EXISTS first, then
# INCRBY: two round trips, and a key that expires between them comes back as a counter
# without an expiry (a rate limit's window that never ends).
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

# A counter made on first use (0, expiring) and raised, in one round trip: SET NX with the
# expiry, then INCRBY. The expiry is set only where the key is made, so a window keeps its end.
COUNT = """
redis.call('SET', KEYS[1], 0, 'NX', 'PX', ARGV[2])
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


def count(cache: BaseCache, key: str, delta: int = 1, *, timeout: float) -> int:
    """Raise the counter ``key`` by ``delta``, made first (at 0, lasting ``timeout`` seconds)
    when there is none; its new value. Atomic: of simultaneous calls each sees its own value.

    One round trip on the studio's Redis cache (``RedisCache.count``); on any other cache,
    ``add`` then ``incr`` (again if the key expired between the two)."""
    if (one_trip := getattr(cache, "count", None)) is not None:  # django.core.cache.cache too
        return one_trip(key, delta, timeout=timeout)
    for _ in range(2):
        cache.add(key, 0, timeout)
        try:
            return cache.incr(key, delta)
        except ValueError:  # it expired (or was evicted) between add and incr
            continue
    cache.set(key, delta, timeout)
    return delta


class SharedClient(django_redis.RedisCacheClient):
    """Django's cache client with one ``redis.Redis`` per pool (per server), made on first
    use, rather than one per command; ``incr`` (and ``decr``) in one round trip."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis: dict[redis.ConnectionPool, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)  # Django's pick of server; its pool, made once
        if (client := self._redis.get(pool)) is None:  # two threads at once: the same pool
            client = self._redis.setdefault(pool, self._client(connection_pool=pool))
        return client

    def incr(self, key: Any, delta: int) -> int:
        """As Django's: the new value, ``ValueError`` when the key does not exist."""
        value = self.get_client(key, write=True).eval(INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def count(self, key: Any, delta: int, milliseconds: int) -> int:
        """``cache_pool.count``'s one round trip."""
        return self.get_client(key, write=True).eval(COUNT, 1, key, delta, milliseconds)


class RedisCache(django_redis.RedisCache):
    """Django's Redis cache, its client made once per process (``SharedClient``)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClient

    @cached_property
    def _cache(self) -> SharedClient:
        location = tuple(self._servers)
        with _lock:
            found = _clients.get(location)
            if found is None or found[0] is not self._options:  # e.g. a test's own settings
                client = self._class(self._servers, **self._options)
                found = _clients[location] = (self._options, client)
            return found[1]

    def count(self, key: Any, delta: int = 1, *, timeout: float) -> int:
        """See ``count`` (this module's); the key made and validated as every command's."""
        key = self.make_and_validate_key(key)
        return self._cache.count(key, delta, max(1, round(timeout * 1000)))
