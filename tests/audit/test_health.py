"""Liveness and readiness probes: public, JSON, readiness checks the database and the cache."""

import pytest

from studio.audit import views

pytestmark = pytest.mark.django_db


def test_liveness_needs_no_login(client):
    response = client.get("/healthz/live")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readiness_checks_database_and_cache(client):
    response = client.get("/healthz/ready")

    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["database"] == body["checks"]["cache"] == "ok"
    assert body["checks"]["upstream_breaker"] == "closed"


def test_readiness_fails_when_the_cache_is_down(client, monkeypatch):
    def broken() -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setitem(views.CHECKS, "cache", broken)

    response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error: ConnectionError"
