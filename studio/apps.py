from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The project package itself: management commands, context processors, the AI adapter."""

    name = "studio"
    verbose_name = "DeepSeek Studio"
