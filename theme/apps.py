from django.apps import AppConfig


class ThemeConfig(AppConfig):
    """Tailwind sources (src/) and the committed, built CSS (static/css/studio.css)."""

    name = "theme"
