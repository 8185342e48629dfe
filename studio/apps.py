import os

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class StudioConfig(AppConfig):
    """The project package itself: management commands, context processors, the AI adapter."""

    name = "studio"
    verbose_name = "DeepSeek Studio"

    def ready(self) -> None:
        checks.register(framework_tuning)
        checks.register(workers_share_redis)


def framework_tuning(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """While STUDIO_FRAMEWORK_TUNING is on, every assumption of studio.tuning must hold."""
    from studio import tuning  # late: it loads auth middleware, not while the apps populate

    if not tuning.enabled():
        return []
    hint = "Adapt studio/tuning.py to the upgrade, or set STUDIO_FRAMEWORK_TUNING=false."
    return [
        checks.Error(problem, hint=hint, id="studio.E001")
        for problem in tuning.broken_assumptions()
    ]


def workers_share_redis(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Several uvicorn workers (WEB_CONCURRENCY) need REDIS_URL: without it each worker's
    sweeper sees no heartbeat of the others' generations and ends them as interrupted, and a
    Stop or a watcher landing on another worker finds nothing."""
    workers = os.environ.get("WEB_CONCURRENCY", "1")
    if settings.REDIS_URL or not workers.isdigit() or int(workers) <= 1:
        return []
    return [
        checks.Warning(
            f"WEB_CONCURRENCY={workers} without REDIS_URL: the workers cannot see each other's "
            "generations (each one's sweeper ends the others' as interrupted).",
            hint="Set REDIS_URL, or WEB_CONCURRENCY=1.",
            id="studio.W001",
        )
    ]
