"""Django's Redis cache keeps one connection pool per process, not one per request."""

import redis
from django.core.cache.backends.redis import RedisCache

from studio.cache_pool import SharedConnectionPool
from tests.studio.test_settings import manage

SHARED = {"OPTIONS": {"pool_class": "studio.cache_pool.SharedConnectionPool"}}


def _pool(cache: RedisCache) -> redis.ConnectionPool:
    return cache._cache._get_connection_pool(write=True)  # builds it; connects to nothing


def test_every_cache_backend_of_one_url_shares_one_pool():
    first = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    second = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    other = RedisCache("redis://127.0.0.1:6379/14", SHARED)

    assert isinstance(_pool(first), SharedConnectionPool)
    assert _pool(first) is _pool(second)
    assert _pool(other) is not _pool(first)


# Three requests, each in a context of its own as the ASGI handler runs them.
REQUESTS = """
import asyncio, contextvars
from asgiref.sync import sync_to_async
from django.core.cache import caches

def cache_and_pool():
    cache = caches["default"]
    return id(cache), id(cache._cache._get_connection_pool(True))

async def main():
    loop = asyncio.get_running_loop()
    seen = [
        await loop.create_task(sync_to_async(cache_and_pool)(), context=contextvars.copy_context())
        for _ in range(3)
    ]
    print(len({cache for cache, _ in seen}), len({pool for _, pool in seen}))

asyncio.run(main())
"""


def test_with_redis_each_request_builds_a_cache_but_all_share_one_pool():
    result = manage(
        "shell", "--no-imports", "-c", REQUESTS, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/15"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["3", "1"]  # a backend per request; one pool
