"""Django's SQLite backend whose connections outlive their request's thread.

Under ASGI each request runs its synchronous code on a thread of its own, and Django's
connections are per thread: every request opened a SQLite connection (its functions and
pragmas) and paid for reading the schema again on its first query, about 1.3 ms of CPU, and
closed it at its end. Here a connection closed outside any transaction goes back to a
process-wide list of idle ones, and the next thread's connect takes it as it is (SQLite
connections may move between threads: Django opens them with ``check_same_thread=False``).

Only a connection at rest is kept: one closed inside an atomic block, one that fails
(closed under it) or one with its foreign-key checks off is really closed; a transaction
left open is rolled back first; an in-memory database is never shared; at most ``IDLE``
wait per database file.

A kept connection is handed on exactly as it is, with its prepared statements: setting any
flag pragma (even ``foreign_keys = ON`` where it is on already) expires every statement the
connection has prepared, and the next thread's queries would each be compiled again (70 µs
for the panel's version query, about 4× running it: docs/decisions/0034-*.md). So the
foreign-key flag is read when a connection is put back, never set when one is taken.

Part of the framework tuning (``studio.tuning`` checks what it leans on:
``get_new_connection`` and ``_close``); ``STUDIO_FRAMEWORK_TUNING=false`` uses Django's own
backend.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

IDLE = 32  # idle connections kept per database file; more are closed

_lock = threading.Lock()
_idle: dict[str, list[sqlite3.Connection]] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        if not self.is_in_memory_db():
            with _lock:
                idle = _idle.get(str(conn_params["database"]))
                if idle:
                    return idle.pop()
        return super().get_new_connection(conn_params)

    def _close(self) -> None:
        connection = self.connection
        if connection is None or self.in_atomic_block or self.is_in_memory_db():
            return super()._close()
        try:
            if connection.in_transaction:
                connection.rollback()
            # Off (constraint checks disabled and not enabled again): not as a new one is.
            checks_foreign_keys = connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
        except sqlite3.Error:  # closed under it, or broken: never handed on
            return super()._close()
        if not checks_foreign_keys:
            return super()._close()
        with _lock:
            idle = _idle.setdefault(str(self.settings_dict["NAME"]), [])
            if len(idle) < IDLE:
                idle.append(connection)
                return None
        return super()._close()


def close_idle() -> None:
    """Close every idle connection (a test database about to be dropped, a fork)."""
    with _lock:
        connections = [c for idle in _idle.values() for c in idle]
        _idle.clear()
    for connection in connections:
        connection.close()
