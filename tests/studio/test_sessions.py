"""Sessions (studio.sessions): read from the cache, kept in the database."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio import degraded, sessions

pytestmark = pytest.mark.django_db


def _session_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_a_request_reads_its_session_from_the_cache(client, user, workspace):
    client.force_login(user)
    url = workspace.get_absolute_url()

    assert _session_queries(client, url) == []  # login wrote it through to the cache


def test_the_database_is_the_record(client, user, workspace):
    client.force_login(user)
    url = workspace.get_absolute_url()
    degraded.shared().clear()  # evicted, flushed, Redis restarted

    first = _session_queries(client, url)
    then = _session_queries(client, url)

    assert len(first) == 1 and then == []  # read once from the database, cached again
    assert client.get(url).wsgi_request.user == user


def test_a_logout_removes_the_cached_copy(client, user, workspace):
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    url = workspace.get_absolute_url()
    assert client.get(url).status_code == 200

    client.post(reverse("logout"))
    client.cookies["sessionid"] = cookie  # the old cookie, replayed

    assert not Session.objects.filter(session_key=cookie).exists()
    assert client.get(url).status_code == 302  # to the login page: not signed in


def test_a_cached_session_lives_at_most_cached_for(client, user, monkeypatch):
    timeouts: list[int] = []
    cache = degraded.shared()
    real_set = cache.set

    def recording_set(key, value, timeout=None, **kwargs):
        if key.startswith(sessions.SessionStore.cache_key_prefix):
            timeouts.append(timeout)
        return real_set(key, value, timeout, **kwargs)

    monkeypatch.setattr(cache, "set", recording_set)
    client.force_login(user)
    degraded.shared().clear()
    client.get("/")

    assert timeouts and all(0 < t <= sessions.CACHED_FOR for t in timeouts)
