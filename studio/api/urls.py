"""Settings pages for API keys."""

from django.urls import path

from . import views

app_name = "api"
urlpatterns = [
    path("settings/api-keys/", views.api_keys, name="keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.revoke_key, name="revoke"),
]
