"""The studio's own system checks (``studio.apps``)."""

from django.core import checks


def warnings(monkeypatch, settings, *, workers: str | None, redis: str) -> list[str]:
    if workers is None:
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", workers)
    settings.REDIS_URL = redis
    return [m.id for m in checks.run_checks() if m.id == "studio.W001"]


def test_several_workers_without_redis_are_warned_about(monkeypatch, settings):
    assert warnings(monkeypatch, settings, workers="2", redis="") == ["studio.W001"]


def test_one_worker_or_a_shared_redis_is_fine(monkeypatch, settings):
    assert warnings(monkeypatch, settings, workers=None, redis="") == []
    assert warnings(monkeypatch, settings, workers="1", redis="") == []
    assert warnings(monkeypatch, settings, workers="4", redis="redis://127.0.0.1:6379/0") == []
