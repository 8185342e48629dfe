from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("healthz/live", views.live, name="live"),
    path("healthz/ready", views.ready, name="ready"),
]
