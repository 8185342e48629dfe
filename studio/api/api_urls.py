"""The JSON API's URLs (include at /api/ai/). Namespace ``api_ai``, as django-ninja expects."""

from django.urls import URLPattern, URLResolver

from .api import api


def _key_authenticated(patterns: list) -> list:
    """The API's views skip LoginRequiredMiddleware: ApiKeyAuth guards every operation."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _key_authenticated(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback.login_required = False
    return patterns


app_name = "api_ai"
urlpatterns = _key_authenticated(api.urls[0])
