"""Django's Redis cache keeps one client and one connection pool per process, not one per
request (studio/cache_pool.py)."""

import threading

import pytest
import redis

from studio.cache_pool import RedisCache, SharedClient, SharedConnectionPool
from tests.studio.test_settings import manage

OPTIONS = {"pool_class": "studio.cache_pool.SharedConnectionPool"}
SHARED = {"OPTIONS": OPTIONS}


def _pool(cache: RedisCache) -> redis.ConnectionPool:
    return cache._cache._get_connection_pool(write=True)  # builds it; connects to nothing


def test_every_cache_backend_of_one_url_shares_one_pool():
    first = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    second = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    other = RedisCache("redis://127.0.0.1:6379/14", SHARED)

    assert isinstance(_pool(first), SharedConnectionPool)
    assert _pool(first) is _pool(second)
    assert _pool(other) is not _pool(first)


def test_every_cache_backend_of_one_url_shares_one_client_and_one_redis():
    first = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    second = RedisCache("redis://127.0.0.1:6379/15", SHARED)

    assert isinstance(first._cache, SharedClient)
    assert first._cache is second._cache
    # One redis.Redis for every command, for reads and writes alike (one server).
    client = first._cache.get_client("a", write=True)
    assert client is second._cache.get_client("b") is first._cache.get_client(None)
    assert client.connection_pool is _pool(first)


def test_a_backend_with_other_options_gets_a_client_of_its_own():
    first = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    other = RedisCache("redis://127.0.0.1:6379/15", {"OPTIONS": dict(OPTIONS, socket_timeout=1)})

    assert other._cache is not first._cache
    assert other._cache._pool_options["socket_timeout"] == 1


def test_the_shared_client_reads_and_writes_from_many_threads():
    caches = [RedisCache("redis://127.0.0.1:6379/15", SHARED) for _ in range(8)]
    seen: list[object] = []

    def use(i: int) -> None:
        caches[i].set(f"cache-pool-{i}", {"n": i}, 30)
        seen.append(caches[i].get(f"cache-pool-{i}"))

    threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(s["n"] for s in seen) == list(range(8))
    caches[0].delete_many([f"cache-pool-{i}" for i in range(8)])


# Three requests, each in a context of its own as the ASGI handler runs them.
REQUESTS = """
import asyncio, contextvars
from asgiref.sync import sync_to_async
from django.core.cache import caches

def cache_client_and_pool():
    cache = caches["default"]
    return id(cache), id(cache._cache.get_client()), id(cache._cache._get_connection_pool(True))

async def main():
    loop = asyncio.get_running_loop()
    seen = [
        await loop.create_task(
            sync_to_async(cache_client_and_pool)(), context=contextvars.copy_context()
        )
        for _ in range(3)
    ]
    print(*(len(set(ids)) for ids in zip(*seen)))

asyncio.run(main())
"""


def test_with_redis_each_request_builds_a_cache_but_all_share_one_client_and_pool():
    result = manage(
        "shell", "--no-imports", "-c", REQUESTS, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/15"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["3", "1", "1"]  # a backend per request; one client


def test_a_counter_rises_in_one_round_trip_and_keeps_its_expiry():
    """incr (and decr) on an existing key: one command to Redis, not EXISTS then INCRBY."""
    cache = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    cache.delete("cache-pool-counter")
    cache.add("cache-pool-counter", 0, 30)
    client = cache._cache.get_client("cache-pool-counter", write=True)
    sent: list[tuple] = []
    original = client.execute_command

    def counting(*args, **kwargs):
        sent.append(args)
        return original(*args, **kwargs)

    client.execute_command = counting
    try:
        assert cache.incr("cache-pool-counter", 5) == 5
        assert cache.decr("cache-pool-counter", 2) == 3
    finally:
        del client.execute_command

    assert [args[0] for args in sent] == ["EVAL", "EVAL"]
    assert cache.get("cache-pool-counter") == 3
    assert 0 < client.ttl(cache.make_and_validate_key("cache-pool-counter")) <= 30


def test_a_missing_counter_is_not_created_by_incr():
    cache = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    cache.delete("cache-pool-missing")

    with pytest.raises(ValueError, match="not found"):
        cache.incr("cache-pool-missing")
    assert cache.get("cache-pool-missing") is None
