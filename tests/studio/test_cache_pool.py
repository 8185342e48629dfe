"""Django's Redis cache keeps one client and one connection pool per process, not one per
request (studio/cache_pool.py)."""

import threading
import time

import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache

from studio import cache_pool
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


def _commands(cache: RedisCache, key: str) -> tuple[redis.Redis, list[tuple]]:
    """The client ``cache`` sends ``key``'s commands through, and a list that collects them."""
    client = cache._cache.get_client(key, write=True)
    sent: list[tuple] = []
    original = client.execute_command

    def counting(*args, **kwargs):
        sent.append(args)
        return original(*args, **kwargs)

    client.execute_command = counting
    return client, sent


def test_a_counter_rises_in_one_round_trip_and_keeps_its_expiry():
    """incr (and decr) on an existing key: one command to Redis, not EXISTS then INCRBY."""
    cache = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    cache.delete("cache-pool-counter")
    cache.add("cache-pool-counter", 0, 30)
    client, sent = _commands(cache, "cache-pool-counter")
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


def test_a_counter_is_made_and_raised_in_one_round_trip_with_its_expiry_kept():
    """count(): a missing counter made (expiring) and raised in one command; a later count
    raises it without moving its expiry, so a rate window or a day's total keeps its end."""
    cache = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    cache.delete("cache-pool-count")
    client, sent = _commands(cache, "cache-pool-count")
    try:
        assert cache_pool.count(cache, "cache-pool-count", 3, timeout=30) == 3
        key = cache.make_and_validate_key("cache-pool-count")
        client.pexpire(key, 5000)  # as if 25 s of the window had gone
        assert cache_pool.count(cache, "cache-pool-count", timeout=30) == 4
    finally:
        del client.execute_command

    assert [args[0] for args in sent] == ["EVAL", "PEXPIRE", "EVAL"]
    assert cache.get("cache-pool-count") == 4  # Django reads the counter as any integer
    assert 0 < client.pttl(key) <= 5000
    cache.delete("cache-pool-count")


def test_a_counter_counts_every_call_of_many_threads_at_once():
    cache = RedisCache("redis://127.0.0.1:6379/15", SHARED)
    cache.delete("cache-pool-burst")
    seen: list[int] = []

    def use() -> None:
        seen.append(cache_pool.count(cache, "cache-pool-burst", timeout=30))

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen) == list(range(1, 17))  # each call its own value: none lost or shared
    cache.delete("cache-pool-burst")


def test_a_counter_in_memory_is_made_with_its_expiry_and_raised():
    cache = LocMemCache("cache-pool-count", {})
    made = time.time()

    assert cache_pool.count(cache, "n", 2, timeout=30) == 2
    assert cache_pool.count(cache, "n", 5, timeout=90) == 7
    expires = cache._expire_info[cache.make_and_validate_key("n")]
    assert made + 30 <= expires <= time.time() + 30  # the first call's window, kept


def test_a_counter_in_memory_that_vanishes_between_its_two_steps_is_made_again():
    """On a cache without ``count`` a key can expire between ``add`` and ``incr``."""

    class Evicting(LocMemCache):
        evictions = 1

        def incr(self, key, delta=1, version=None):
            if self.evictions:
                self.evictions -= 1
                self.delete(key, version=version)
            return super().incr(key, delta, version)

    cache = Evicting("cache-pool-evicting", {})

    assert cache_pool.count(cache, "n", 4, timeout=30) == 4
    assert cache_pool.count(cache, "n", 1, timeout=30) == 5
