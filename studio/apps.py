from django.apps import AppConfig
from django.core import checks


class StudioConfig(AppConfig):
    """The project package itself: management commands, context processors, the AI adapter."""

    name = "studio"
    verbose_name = "DeepSeek Studio"

    def ready(self) -> None:
        checks.register(framework_tuning)


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
