"""Sessions: Django's ``cached_db`` store, with the cache asked through ``studio.degraded``.

Every request reads its session before any view runs: the Generate POST and its SSE stream
each paid a database query for it (about 0.5 ms of ORM on SQLite, a round trip on
PostgreSQL) on the way to the first token (docs/decisions/0026-sessions-read-from-the-cache.md).
``cached_db`` reads it from the cache and writes through to both. The database stays the
record: a session the cache lacks (evicted, flushed, Redis restarted) is read from it.

Two changes to Django's store:

- The shared cache is asked through :mod:`studio.degraded`: while Redis is down sessions
  come from the database alone, as before (no 503, no connect timeout per request, nobody
  logged out). Only the shared cache: a session is never kept in a worker's own memory while
  Redis is away, where another worker's logout could not reach it.
- A session stays in the cache :data:`CACHED_FOR` seconds at most, not its whole age: a
  logout whose cache delete could not reach Redis leaves the cached copy valid that long at
  most once Redis is back.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

from studio import degraded

CACHED_FOR = 300  # seconds a session stays in the cache after it was read or written
WHAT = "session"  # studio.degraded's label for these calls (metrics, the outage log)


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict[str, Any]:
        key = self.cache_key
        data = degraded.fail_open(lambda cache: cache.get(key), None, what=WHAT)
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        self._cache_set(key, data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        key = self.cache_key_prefix + session_key
        cached = degraded.fail_open(lambda cache: key in cache, False, what=WHAT)
        return cached or DatabaseStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DatabaseStore.save(self, must_create)
        self._cache_set(self.cache_key, self._session, self.get_expiry_age())

    def delete(self, session_key: str | None = None) -> None:
        DatabaseStore.delete(self, session_key)
        session_key = session_key or self.session_key
        if session_key is not None:
            key = self.cache_key_prefix + session_key
            degraded.fail_open(lambda cache: cache.delete(key), False, what=WHAT)

    # Django's async versions ask the cache directly: these go through the ones above.
    async def aload(self) -> dict[str, Any]:
        return await sync_to_async(self.load)()

    async def aexists(self, session_key: str | None) -> bool:
        return await sync_to_async(self.exists)(session_key)

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete)(session_key)

    def _cache_set(self, key: str, data: dict[str, Any], age: int) -> None:
        seconds = min(age, CACHED_FOR)
        degraded.fail_open(lambda cache: cache.set(key, data, seconds), None, what=WHAT)
